"""Exporting to the YAML seed format: lossless, compact, and stable through a load."""

import datetime as dt
import functools
import random
from dataclasses import replace
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from policies import analysis, engine, records
from policies.engine import Choice, Clause, HitPolicy, Outcome, Question, Rule, Version
from policies.exporting import ExportError, dump_yaml, export_document
from policies.loading import parse_document, policy_load, read_document, seed_files, to_engine
from policies.models import PolicyVersion
from tests.factories import PolicyVersionFactory
from tests.policies.test_analysis import random_version

PETS = """
policy: {slug: pets, title: Pet licence, summary: "May you keep this pet?"}
versions:
  - {id: 2025-01-01, notes: First.}
  - {id: 2025-06-01, notes: Birds arrive., status: draft}
  - {id: 2025-09-01, notes: Fish again.}
clauses:
  - {id: act, before: 2025-06-01, source: Pet act, url: "https://example.com/act", quote: Old.}
  - {id: act, from: 2025-06-01, source: Pet act, url: "https://example.com/act", quote: New.}
  - {id: guide, url: "https://example.com/guide", version: "2", quote: Walk dogs.}
questions:
  - id: pet
    text: Which pet?
    choices:
      - {id: cat, label: Cat}
      - {id: dog, label: Dog, help: Woof.}
      - {id: fish, label: Fish}
      - {id: bird, label: Bird, from: 2025-06-01}
  - id: walks
    text: Will you walk it daily?
    shown_when: [{pet: [dog]}]
    choices: [{id: "yes", label: "Yes"}, {id: "no", label: "No"}]
outcomes:
  verdict: [{id: "no", title: "No", text: You may not.}, {id: "yes", title: "Yes", text: You may.}]
  steps:
    - id: leash
      title: Leash
      text: Use a leash.
      detail: |
        buy a leash
        use it
    - {id: tank, title: Tank, text: Get a tank.}
rules:
  - {id: ok, then: {verdict: "yes"}, reason: Pets are fine., cite: [act]}
  - id: strict
    when:
      - {pet: [dog], walks: ["no"]}
      - {pet: [fish]}
    then: {verdict: "no", steps: [leash, tank]}
    reason: Dogs need walks; fish need tanks.
    cite: [act, guide]
  - {id: fish-tank, versions: [2025-01-01, 2025-09-01], when: {pet: [fish]}, then: {steps: tank},
     reason: Tanks., cite: [guide], priority: 2}
"""


def engine_versions(document):
    return [(v.id, v.notes, v.status, to_engine(document.slug, v)) for v in document.versions]


def export(document):
    return export_document(
        document.slug,
        document.title,
        document.summary,
        engine_versions(document),
        documents=document.documents,
        reviews=document.reviews,
    )


def round_trip(exported):
    """Parse an exported document back into (id, notes, status, engine version) tuples."""
    document = parse_document(yaml.safe_load(dump_yaml(exported)))
    return document, engine_versions(document)


def day(text):
    return dt.date.fromisoformat(text)


@functools.cache
def seed_document():
    return read_document(seed_files()[0])


def test_the_seeded_policy_exports_to_versions_equal_to_its_own():
    document = seed_document()

    parsed, versions = round_trip(export(document))

    assert (parsed.slug, parsed.title, parsed.summary) == (
        document.slug,
        document.title,
        document.summary,
    )
    assert versions == engine_versions(document)


def test_exporting_the_seed_again_after_loading_it_gives_the_same_text():
    text = dump_yaml(export(seed_document()))
    parsed = parse_document(yaml.safe_load(text))
    assert dump_yaml(export(parsed)) == text


def test_the_exported_seed_evaluates_identically_on_every_reachable_answer_set():
    _, versions = round_trip(export(seed_document()))
    for (_, _, _, original), (_, _, _, copy) in zip(
        engine_versions(seed_document()), versions, strict=True
    ):
        for answers in analysis.reachable_answer_sets(original):
            assert engine.evaluate(copy, answers) == engine.evaluate(original, answers)


def test_a_small_policy_round_trips_with_drafts_scopes_and_grouped_rules():
    document = parse_document(yaml.safe_load(PETS))

    exported = export(document)
    _, versions = round_trip(exported)

    assert versions == engine_versions(document)
    assert [v.get("status") for v in exported["versions"]] == [None, "draft", None]
    assert [(r["id"], r.get("versions")) for r in exported["rules"]] == [
        ("ok", None),
        ("strict", None),
        ("fish-tank", [day("2025-01-01"), day("2025-09-01")]),
    ]
    strict = exported["rules"][1]
    assert strict["when"] == [{"pet": ["dog"], "walks": ["no"]}, {"pet": ["fish"]}]
    assert strict["then"] == {"verdict": "no", "steps": ["leash", "tank"]}
    assert exported["rules"][2]["priority"] == 2


def test_records_shared_by_versions_are_written_once_and_changes_are_scoped():
    exported = export(parse_document(yaml.safe_load(PETS)))

    acts = [c for c in exported["clauses"] if c["id"] == "act"]
    assert [(c.get("from"), c.get("before"), c["quote"]) for c in acts] == [
        (None, day("2025-06-01"), "Old."),
        (day("2025-06-01"), None, "New."),
    ]
    assert [q["id"] for q in exported["questions"]] == ["pet", "walks"]
    choices = exported["questions"][0]["choices"]
    assert [(c["id"], c.get("from")) for c in choices] == [
        ("cat", None),
        ("dog", None),
        ("fish", None),
        ("bird", day("2025-06-01")),
    ]


def test_multi_line_texts_are_written_as_literal_blocks():
    text = dump_yaml(export(parse_document(yaml.safe_load(PETS))))
    assert "detail: |-\n      buy a leash\n      use it\n" in text


def hand_made(rules, **kwargs):
    return Version(
        "pets",
        "2025-01-01",
        (Question("pet", "Which pet?", (Choice("cat", "Cat"), Choice("dog", "Dog"))),),
        (
            Outcome("verdict", "no", "No", "No."),
            Outcome("verdict", "yes", "Yes", "Yes."),
            Outcome("steps", "leash", "Leash", "Leash."),
        ),
        tuple(rules),
        (Clause("act", "Says.", "https://example.com/act"),),
        **kwargs,
    )


def export_one(version, version_id="2025-01-01"):
    return export_document("pets", "Pets", "", [(version_id, "", "published", version)])


def test_stored_rules_that_no_yaml_rule_would_make_are_written_under_their_own_keys():
    cats = engine.conjunction({"pet": ["cat"]})
    rules = [
        Rule("a.1", "verdict", "yes", cats, "One.", ("act",)),
        Rule("a.2", "verdict", "yes", (), "Two.", ("act",)),  # another reason: not one rule
        Rule("b.verdict", "verdict", "no", cats, "B.", ("act",)),
        Rule("b.steps", "steps", "leash", cats, "B.", ("act",)),
        Rule("b.verdict.2", "verdict", "yes", cats, "B.", ("act",)),  # verdict again after steps
        Rule("c.steps", "steps", "leash", cats, "C.", ("act",)),  # its sibling was deleted
    ]
    version = hand_made(rules)

    exported = export_one(version)

    assert [r["id"] for r in exported["rules"]] == ["a.1", "a.2", "b", "b.verdict.2", "c.steps"]
    assert round_trip(exported)[1][0][3] == version


def test_keys_name_the_table_and_not_the_outcome_so_an_edited_outcome_keeps_its_group():
    document = parse_document(yaml.safe_load(PETS))
    first = to_engine(document.slug, document.versions[0])
    strict = [r for r in first.rules if r.key.startswith("strict.")]
    # One YAML rule of two alternatives and three outcomes: six stored rules.
    assert [r.key for r in strict] == [
        f"strict.{n}.{end}" for n in (1, 2) for end in ("verdict", "steps.1", "steps.2")
    ]
    # An admin turns the first alternative's verdict around: the key, and the group, stay.
    edited = replace(
        first,
        rules=tuple(
            replace(r, outcome="yes") if r.key.endswith(".verdict") else r for r in first.rules
        ),
    )

    exported = export_one(edited)
    _, [(_, _, _, back)] = round_trip(exported)

    assert [r["id"] for r in exported["rules"]][:2] == ["ok", "strict"]
    assert exported["rules"][1]["then"] == {"verdict": "yes", "steps": ["leash", "tank"]}
    assert back == edited


def test_it_refuses_what_the_seed_format_cannot_express():
    rules = [Rule("ok", "verdict", "yes", (), "Fine.", ("act",))]
    first = {**engine.DEFAULT_HIT_POLICIES, engine.VERDICT: HitPolicy.FIRST}
    with pytest.raises(ExportError, match="hit policies"):
        export_one(hand_made(rules, hit_policies=first))
    with pytest.raises(ExportError, match="no effective date"):
        export_one(hand_made(rules), version_id="")
    with pytest.raises(ExportError, match="would not load"):
        empty = engine.conjunction({"pet": []})  # the loader refuses a test with no choice
        export_one(hand_made([Rule("never", "verdict", "yes", empty, "", ("act",))]))


def mutated(rng, version):
    """The version with a rule dropped, a reason reworded and a choice added, each by chance."""
    rules = list(version.rules)
    if rules and rng.random() < 0.5:
        rules.pop(rng.randrange(len(rules)))
    if rules and rng.random() < 0.5:
        at = rng.randrange(len(rules))
        rules[at] = replace(rules[at], reason="Reworded.")
    questions = list(version.questions)
    at = rng.randrange(len(questions))
    if rng.random() < 0.5 and "new" not in questions[at].choice_keys:
        questions[at] = replace(
            questions[at], choices=(*questions[at].choices, Choice("new", "New"))
        )
    return replace(version, questions=tuple(questions), rules=tuple(rules))


def dotted_keys(rng, version):
    """Rule keys in the loader's `<id>[.<n>][.<outcome>]` forms, so that grouping is tried."""
    rules: list[Rule] = []
    for i, rule in enumerate(version.rules):
        form = rng.choice(["{i}", "g.{n}", "g.{outcome}", "g.{n}.{outcome}", "h.1"])
        key = form.format(i=f"r{i}", n=rng.randint(1, 2), outcome=rule.outcome)
        if key in {r.key for r in rules}:
            key = f"r{i}"
        rules.append(replace(rule, key=key))
    return replace(version, rules=tuple(rules))


@pytest.mark.parametrize("seed", range(80))
def test_random_versions_round_trip(seed):
    rng = random.Random(seed)
    base = replace(random_version(rng), hit_policies=engine.DEFAULT_HIT_POLICIES)
    base = dotted_keys(rng, base)
    versions = [base]
    for _ in range(rng.randint(0, 2)):
        versions.append(mutated(rng, rng.choice(versions)))
    exported = [(f"2025-0{i + 1}-01", "", "published", v) for i, v in enumerate(versions)]

    document = export_document("random", "Random", "", exported)
    _, read_back = round_trip(document)

    for (_, _, _, original), (_, _, _, copy) in zip(exported, read_back, strict=True):
        assert copy == replace(original, policy="random", version=copy.version)


# --- the command ----------------------------------------------------------------------------------


def export_command(*args):
    stdout, stderr = StringIO(), StringIO()
    call_command("export_policy", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def compiled_versions(slug):
    return [
        records.build(v)
        for v in PolicyVersion.objects.filter(policy__slug=slug).order_by("effective_date")
    ]


@pytest.mark.django_db
def test_export_policy_prints_yaml_that_loads_back_into_the_same_versions(seeded):
    before = compiled_versions("claude-code")

    text, errors = export_command("claude-code")
    policy_load(document=parse_document(yaml.safe_load(text)), replace=True)

    assert errors == ""
    assert compiled_versions("claude-code") == before
    assert export_command("claude-code")[0] == text


@pytest.mark.django_db
def test_export_policy_can_print_one_version(seeded):
    text, _ = export_command("claude-code", "--version", "2026-04-04")

    document = parse_document(yaml.safe_load(text))

    assert [v.id for v in document.versions] == ["2026-04-04"]
    assert "from:" not in text and "before:" not in text


@pytest.mark.django_db
def test_export_policy_names_what_it_cannot_find(seeded):
    with pytest.raises(CommandError, match="Unknown policy 'nope'"):
        export_command("nope")
    with pytest.raises(CommandError, match="has no version '2020-01-01'"):
        export_command("claude-code", "--version", "2020-01-01")


@pytest.mark.django_db
def test_export_policy_leaves_out_drafts_it_cannot_write(seeded):
    policy = PolicyVersion.objects.filter(policy__slug="claude-code").first().policy
    PolicyVersionFactory(policy=policy, effective_date=None)
    PolicyVersionFactory(policy=policy, effective_date=dt.date(2026, 8, 22))

    text, errors = export_command("claude-code")

    assert set(errors.splitlines()) == {  # in no particular order: databases sort NULL apart
        "Skipped claude-code undated (draft): a version needs an effective date to export.",
        "Skipped claude-code 2026-08-22 (draft): claude-code 2026-08-22 has the same date.",
    }
    document = parse_document(yaml.safe_load(text))
    assert [v.status for v in document.versions] == ["published"] * 4
