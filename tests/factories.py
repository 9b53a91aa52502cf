"""Test data. Records are built as drafts (published versions refuse changes); call `publish` once a
version is complete."""

from __future__ import annotations

import datetime as dt

import factory

from policies import services
from policies.models import (
    Choice,
    Clause,
    Outcome,
    Policy,
    PolicyVersion,
    Question,
    Rule,
    Scenario,
)


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"policy-{n}")
    title = factory.Sequence(lambda n: f"Policy {n}")
    summary = "A policy made for tests."


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyVersion

    policy = factory.SubFactory(PolicyFactory)
    effective_date = factory.Sequence(lambda n: dt.date(2025, 1, 1) + dt.timedelta(days=n))
    notes = "Made for tests."


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    version = factory.SubFactory(PolicyVersionFactory)
    key = factory.Sequence(lambda n: f"q{n}")
    text = factory.LazyAttribute(lambda q: f"Question {q.key}?")
    help = "Why we ask."
    order = factory.Sequence(lambda n: n)
    shown_when = factory.LazyFunction(list)


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory)
    key = factory.Sequence(lambda n: f"c{n}")
    label = factory.LazyAttribute(lambda c: f"Choice {c.key}")
    order = factory.Sequence(lambda n: n)


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outcome

    version = factory.SubFactory(PolicyVersionFactory)
    table = Outcome.Table.VERDICT
    key = factory.Sequence(lambda n: f"outcome-{n}")
    title = factory.LazyAttribute(lambda o: o.key.replace("_", " ").capitalize())
    text = factory.LazyAttribute(lambda o: f"Text for {o.key}.")
    order = factory.Sequence(lambda n: n)


class ClauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clause

    version = factory.SubFactory(PolicyVersionFactory)
    key = factory.Sequence(lambda n: f"clause-{n}")
    quote = "The quoted words."
    url = "https://example.com/terms"
    source = "Example terms"
    source_version = "2025-01-01"


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule
        skip_postgeneration_save = True

    version = factory.SubFactory(PolicyVersionFactory)
    key = factory.Sequence(lambda n: f"rule-{n}")
    conditions = factory.LazyFunction(dict)
    outcome = factory.SubFactory(OutcomeFactory, version=factory.SelfAttribute("..version"))
    reason = factory.LazyAttribute(lambda r: f"Because of {r.key}.")

    @factory.post_generation
    def clauses(self, create: bool, extracted: list[Clause] | None, **kwargs: object) -> None:
        if create and extracted:
            self.clauses.set(extracted)


def publish(version: PolicyVersion) -> PolicyVersion:
    """Publish through the one publish path, with its checks: a test version must pass them."""
    return services.version_publish(
        version=version,
        by=None,
        effective_date=version.effective_date,
        notes=version.notes or "Made for tests.",
    )


def small_policy(
    *, slug: str = "pets", effective_date: dt.date = dt.date(2025, 1, 1), published: bool = True
):
    """A two-question policy: `pet` (cat/dog/fish) and, for dogs only, `walks` (yes/no).

    Verdicts: fish -> no; dog without walks -> no; otherwise yes. Every rule cites one clause.
    Left a draft with `published=False`, for a test to add records before it calls `publish`.
    """
    policy = PolicyFactory(slug=slug, title="Pet licence", summary="May you keep this pet?")
    return pet_version(policy, effective_date, published=published)


def pet_version(
    policy: Policy,
    effective_date: dt.date,
    *,
    banned: str = "fish",
    step: tuple[str, str] = ("leash", "dog"),
    clause: dict[str, str] | None = None,
    published: bool = True,
):
    """A published version of the pet policy: `banned` gets "no", walks=no gets "no", everything
    else "yes"; `step` is (step key, the pet it applies to)."""
    version = PolicyVersionFactory.create(policy=policy, effective_date=effective_date)
    pet = QuestionFactory(version=version, key="pet", text="Which pet?", order=0)
    for i, key in enumerate(["cat", "dog", "fish"]):
        ChoiceFactory(question=pet, key=key, label=key.capitalize(), order=i)
    walks = QuestionFactory(
        version=version,
        key="walks",
        text="Will you walk it daily?",
        order=1,
        shown_when=[{"pet": ["dog"]}],
    )
    ChoiceFactory(question=walks, key="yes", label="Yes", order=0)
    ChoiceFactory(question=walks, key="no", label="No", order=1)
    no = OutcomeFactory(version=version, key="no", title="No", order=0)
    yes = OutcomeFactory(version=version, key="yes", title="Yes", order=1)
    step_key, step_pet = step
    step_outcome = OutcomeFactory(
        version=version, table=Outcome.Table.STEP, key=step_key, title=step_key.capitalize()
    )
    act = ClauseFactory(version=version, key="pet-act", **(clause or {}))
    RuleFactory(version=version, key="default-yes", outcome=yes, clauses=[act])
    RuleFactory(
        version=version,
        key=f"no-{banned}",
        outcome=no,
        conditions={"pet": [banned]},
        clauses=[act],
    )
    RuleFactory(
        version=version, key="lazy-dog", outcome=no, conditions={"walks": ["no"]}, clauses=[act]
    )
    RuleFactory(
        version=version,
        key=f"{step_pet}-{step_key}",
        outcome=step_outcome,
        conditions={"pet": [step_pet]},
        clauses=[act],
    )
    return publish(version) if published else version


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scenario

    policy = factory.SubFactory(PolicyFactory)
    name = factory.Sequence(lambda n: f"Scenario {n}")
    answers = factory.LazyFunction(dict)
    verdict = ""
    must_include = factory.LazyFunction(list)
    must_exclude = factory.LazyFunction(list)
