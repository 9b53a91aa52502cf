"""Writes of the policy app: a new draft copies a version whole; publishing checks, records who
and when, and of two admins publishing at once exactly one succeeds."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from policies import analysis, catalog, records, services
from policies.loading import canonical
from policies.models import Outcome, PolicyVersion, Question, Rule
from tests.factories import (
    ClauseFactory,
    RuleFactory,
    ScenarioFactory,
    small_policy,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_user("editor", "editor@example.com", "pw")


def test_a_new_draft_copies_every_record_of_the_version(admin_user):
    published = small_policy()

    draft = services.version_copy(version=published, by=admin_user)

    assert draft.is_draft and draft.effective_date is None
    assert (draft.based_on, draft.created_by) == (published, admin_user)
    assert canonical(records.build(draft)) == canonical(records.build(published))
    assert Rule.objects.get(version=draft, key="no-fish").clauses.get().version == draft


def test_a_new_draft_of_the_seed_compiles_to_the_same_version(
    seeded, django_assert_max_num_queries
):
    # A fixed number, whatever the size: six reads, a write per record kind, the lock's check
    # of each bulk write, and the savepoints.
    for published in PolicyVersion.objects.filter(policy__slug="claude-code"):
        # + the documents; + the scenarios copied, and their lock check
        with django_assert_max_num_queries(28):
            draft = services.version_copy(version=published, by=None)
        assert canonical(records.build(draft)) == canonical(records.build(published))


def test_editing_the_draft_leaves_the_published_version_alone(admin_user):
    published = small_policy()
    draft = services.version_copy(version=published, by=admin_user)

    Question.objects.filter(version=draft, key="pet").update(text="Which animal?")

    assert Question.objects.get(version=published, key="pet").text == "Which pet?"


def publish(version, by=None, day=dt.date(2025, 6, 1), notes="Fish are fine now."):
    return services.version_publish(version=version, by=by, effective_date=day, notes=notes)


def test_publishing_records_the_date_the_note_who_and_when(admin_user):
    draft = services.version_copy(version=small_policy(), by=admin_user)
    before = timezone.now()

    published = publish(draft, by=admin_user)

    published.refresh_from_db()
    assert published.status == PolicyVersion.Status.PUBLISHED
    assert published.effective_date == dt.date(2025, 6, 1)
    assert published.notes == "Fish are fine now."
    assert published.published_by == admin_user
    assert published.published_at >= before


def test_the_new_version_is_served_from_its_date_and_cached_like_any_published_one(
    django_assert_num_queries,
):
    old = small_policy()
    draft = services.version_copy(version=old, by=None)
    Rule.objects.filter(version=draft, key="no-fish").delete()
    catalog.compiled(draft)  # a draft is built, never cached

    publish(draft, day=dt.date(2025, 6, 1))

    row = catalog.version_in_effect("pets", dt.date(2025, 7, 1))
    assert row.pk == draft.pk
    version = catalog.compiled(row)
    assert "no-fish" not in {rule.key for rule in version.rules}
    with django_assert_num_queries(0):
        assert catalog.compiled(row) is version
    assert catalog.version_in_effect("pets", dt.date(2025, 2, 1)).pk == old.pk


@pytest.mark.parametrize(
    ("field", "day", "notes", "code"),
    [
        ("effective_date", None, "Changed.", "required"),
        ("notes", dt.date(2025, 6, 1), "  ", "required"),
        ("effective_date", dt.date(2025, 1, 1), "Changed.", "date_taken"),
    ],
)
def test_publishing_needs_a_free_date_and_a_note(field, day, notes, code):
    draft = services.version_copy(version=small_policy(), by=None)
    with pytest.raises(services.PublishRefused) as excinfo:
        publish(draft, day=day, notes=notes)
    assert (excinfo.value.field, excinfo.value.code) == (field, code)
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft


def test_publishing_is_refused_while_the_checks_report_an_error():
    draft = services.version_copy(version=small_policy(), by=None)
    Rule.objects.filter(version=draft, key="default-yes").delete()  # cats get no verdict
    assert analysis.has_errors(analysis.check(records.build(draft)))

    with pytest.raises(services.PublishRefused, match="The checks report 2 errors") as excinfo:
        publish(draft)

    assert excinfo.value.code == "check_errors"
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft


def test_warnings_do_not_block_publishing():
    draft = services.version_copy(version=small_policy(), by=None)
    ClauseFactory(version=draft, key="unused")  # uncited_clause: a warning

    report = services.version_report(version=draft)
    assert report.warnings and not report.errors

    assert not publish(draft).is_draft


def test_publishing_is_refused_while_a_scenario_fails():
    published = small_policy()
    ScenarioFactory(policy=published.policy, name="Fish", answers={"pet": "fish"}, verdict="no")
    draft = services.version_copy(version=published, by=None)
    Rule.objects.filter(version=draft, key="no-fish").delete()

    with pytest.raises(services.PublishRefused, match="1 scenario fails: “Fish”") as excinfo:
        publish(draft)

    assert excinfo.value.code == "scenario_failures"


def test_a_dated_scenario_runs_against_the_draft_from_the_date_it_is_published_with():
    published = small_policy()
    ScenarioFactory(
        policy=published.policy,
        name="Fish in summer",
        answers={"pet": "fish"},
        verdict="no",
        as_of=dt.date(2025, 7, 1),
    )
    draft = services.version_copy(version=published, by=None)
    Rule.objects.filter(version=draft, key="no-fish").delete()

    # Taking effect after the scenario's day, the draft is not what it tests...
    later = services.version_report(version=draft, effective_date=dt.date(2025, 8, 1))
    assert later.runs == [] and later.skipped[0][0].name == "Fish in summer"
    # ...taking effect before it, the draft is.
    with pytest.raises(services.PublishRefused, match="Fish in summer"):
        publish(draft, day=dt.date(2025, 6, 1))
    assert not publish(draft, day=dt.date(2025, 8, 1)).is_draft


def test_a_version_whose_records_contradict_each_other_cannot_be_published():
    draft = services.version_copy(version=small_policy(), by=None)
    # A condition naming a choice the question no longer has (the admin deleted it afterwards).
    RuleFactory(version=draft, key="parrots", conditions={"pet": ["parrot"]})

    report = services.version_report(version=draft)
    assert "parrot" in report.build_error and report.blocks_publishing
    with pytest.raises(services.PublishRefused) as excinfo:
        publish(draft)
    assert excinfo.value.code == "broken"


def test_a_published_version_cannot_be_published_again():
    with pytest.raises(services.PublishRefused) as excinfo:
        publish(small_policy(), day=dt.date(2025, 9, 1))
    assert excinfo.value.code == "already_published"


def test_the_report_summarises_checks_and_scenarios_in_one_line():
    published = small_policy()
    ScenarioFactory(policy=published.policy, answers={"pet": "cat"}, verdict="yes")
    draft = services.version_copy(version=published, by=None)
    Outcome.objects.filter(version=draft, key="yes").update(text="")

    assert services.version_report(version=draft).summary() == (
        "Checks: 0 errors, 1 warning. Scenarios: 1 of 1 pass."
    )


# --- two admins at once (PostgreSQL) ------------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite ignores SELECT ... FOR UPDATE and serialises every write, so only a database "
    "with row locks can show two publishes racing; run with DATABASE_URL=postgres://...",
)


def race(publishes):
    """Run each publish in its own thread and connection, all starting together, and hold each
    one inside its transaction for a moment so that they overlap."""
    barrier = threading.Barrier(len(publishes))
    outcomes: list[object] = [None] * len(publishes)

    def attempt(i, publish_one):
        try:
            barrier.wait()
            outcomes[i] = publish_one()
        except Exception as exc:  # the outcome under test
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i, p)) for i, p in enumerate(publishes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def slow_checks(monkeypatch):
    real = analysis.check

    def slow(version):
        time.sleep(0.3)
        return real(version)

    monkeypatch.setattr(analysis, "check", slow)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_publishing_the_same_draft_at_once_publish_it_once(slow_checks):
    draft = services.version_copy(version=small_policy(), by=None)

    outcomes = race([lambda: publish(draft), lambda: publish(draft, day=dt.date(2025, 7, 1))])

    refused = [o for o in outcomes if isinstance(o, services.PublishRefused)]
    succeeded = [o for o in outcomes if isinstance(o, PolicyVersion)]
    assert len(succeeded) == 1 and len(refused) == 1, outcomes
    assert refused[0].code == "already_published"
    stored = PolicyVersion.objects.get(pk=draft.pk)
    assert stored.effective_date == succeeded[0].effective_date


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_publishing_two_drafts_on_the_same_date_publish_one(slow_checks):
    published = small_policy()
    first = services.version_copy(version=published, by=None)
    second = services.version_copy(version=published, by=None)

    outcomes = race([lambda: publish(first), lambda: publish(second)])

    refused = [o for o in outcomes if isinstance(o, services.PublishRefused)]
    assert sum(isinstance(o, PolicyVersion) for o in outcomes) == 1, outcomes
    assert [r.code for r in refused] == ["date_taken"]
    assert (
        PolicyVersion.objects.filter(
            policy=published.policy, effective_date=dt.date(2025, 6, 1), status="published"
        ).count()
        == 1
    )


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_constraint_stands_behind_the_lock(monkeypatch):
    # Without the lock, both would pass the date check; the unique constraint still refuses one.
    published = small_policy()
    first = services.version_copy(version=published, by=None)
    second = services.version_copy(version=published, by=None)
    real_filter = services.PolicyVersion.objects.filter

    def no_taken_dates(*args, **kwargs):
        if kwargs.get("status") == PolicyVersion.Status.PUBLISHED and "effective_date" in kwargs:
            return real_filter(pk=-1)
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(services.PolicyVersion.objects, "filter", no_taken_dates)
    publish(first)

    with pytest.raises(services.PublishRefused) as excinfo:
        publish(second)

    assert excinfo.value.code == "date_taken"


# --- which version a preview shows --------------------------------------------------------------


def test_a_preview_as_of_a_date_counts_the_draft_from_its_effective_date():
    published = small_policy()  # 2025-01-01
    later = services.version_copy(version=published, by=None)
    publish(later, day=dt.date(2025, 9, 1))
    draft = services.version_copy(version=published, by=None)
    PolicyVersion.objects.filter(pk=draft.pk).update(effective_date=dt.date(2025, 6, 1))
    draft.refresh_from_db()

    def shown(day):
        return catalog.version_as_of(candidate=catalog.ref(draft), as_of=day).pk

    assert shown(None) == draft.pk
    assert shown(dt.date(2025, 3, 1)) == published.pk
    assert shown(dt.date(2025, 6, 1)) == draft.pk
    assert shown(dt.date(2025, 10, 1)) == later.pk
    with pytest.raises(catalog.AsOfError):
        catalog.version_as_of(candidate=catalog.ref(draft), as_of=dt.date(2024, 1, 1))


def test_an_undated_draft_is_previewed_only_without_a_date():
    published = small_policy()
    draft = services.version_copy(version=published, by=None)

    candidate = catalog.ref(draft)
    assert catalog.version_as_of(candidate=candidate, as_of=None) == candidate
    assert catalog.version_as_of(candidate=candidate, as_of=dt.date(2025, 3, 1)).pk == published.pk
