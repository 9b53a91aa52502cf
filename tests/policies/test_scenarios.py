"""Scenarios run against a version without a database: what passes, what fails and why, which
version a scenario tests, and which rules no scenario exercises."""

import datetime as dt

import pytest

from policies import scenarios
from policies.scenarios import Scenario
from tests.policies.test_analysis import make_version, rule

D = dt.date


def test_a_scenario_whose_decision_matches_passes():
    case = Scenario("fish", {"pet": "fish", "indoors": "yes"}, verdict="no", excludes=("leash",))

    run = scenarios.run(make_version(), case)

    assert run.passed
    assert run.verdict == "no"
    assert run.problems == ()


def test_a_wrong_verdict_and_missing_or_unwanted_items_are_each_named():
    case = Scenario(
        "dog", {"pet": "dog", "walks": "yes", "indoors": "no"}, "no", ("tank",), ("leash",)
    )

    run = scenarios.run(make_version(), case)

    assert not run.passed
    assert run.problems == (
        "Expected the verdict no, got yes.",
        "Expected tank in the result, but it is missing.",
        "Expected leash not to appear, but it is there.",
    )


def test_an_empty_verdict_accepts_any_verdict():
    case = Scenario("any", {"pet": "cat", "indoors": "no"}, includes=("yes",))
    assert scenarios.run(make_version(), case).passed


def test_incomplete_answers_fail_naming_the_question_still_open():
    run = scenarios.run(make_version(), Scenario("half", {"pet": "dog"}, "yes"))
    assert run.problems == (
        "The answers are incomplete: question walks (“walks?”) still needs an answer.",
    )


def test_answers_the_version_does_not_know_fail_with_the_engines_message():
    run = scenarios.run(make_version(), Scenario("bird", {"pet": "bird", "indoors": "no"}, "yes"))
    assert not run.passed
    assert "'bird' is not a choice for 'pet'" in run.problems[0]


@pytest.mark.parametrize(
    ("as_of", "effective_date", "is_draft", "published", "applies"),
    [
        # Without as_of: every draft, and the newest published version only.
        (None, None, True, [D(2025, 1, 1)], True),
        (None, D(2025, 1, 1), False, [D(2025, 1, 1), D(2025, 6, 1)], False),
        (None, D(2025, 6, 1), False, [D(2025, 1, 1), D(2025, 6, 1)], True),
        # With as_of: the version in effect that day, a draft counting from its own date.
        (D(2025, 3, 1), D(2025, 1, 1), False, [D(2025, 1, 1), D(2025, 6, 1)], True),
        (D(2025, 7, 1), D(2025, 1, 1), False, [D(2025, 1, 1), D(2025, 6, 1)], False),
        (D(2025, 7, 1), D(2025, 7, 1), True, [D(2025, 1, 1), D(2025, 6, 1)], True),
        (D(2025, 7, 1), D(2025, 8, 1), True, [D(2025, 1, 1), D(2025, 6, 1)], False),
        (D(2025, 7, 1), D(2025, 3, 1), True, [D(2025, 1, 1), D(2025, 6, 1)], False),
        (D(2025, 7, 1), None, True, [D(2025, 1, 1)], False),
    ],
)
def test_which_version_a_scenario_tests(as_of, effective_date, is_draft, published, applies):
    case = Scenario("case", {}, as_of=as_of)
    assert (
        scenarios.applies_to(
            case, effective_date=effective_date, is_draft=is_draft, published_dates=published
        )
        is applies
    )


def test_coverage_lists_the_rules_no_scenario_exercised_in_the_versions_order():
    version = make_version()
    runs = scenarios.run_all(
        version,
        [
            Scenario("fish", {"pet": "fish", "indoors": "no"}, "no"),
            Scenario("cat", {"pet": "cat", "indoors": "no"}, "yes"),
        ],
    )

    assert scenarios.uncovered_rules(version, runs) == ["lazy", "leash"]


def test_a_verdict_rule_that_matched_but_lost_does_not_count_as_exercised():
    # `default` matches every answer set, but for a fish the stricter `fish` decides.
    version = make_version([rule("default", "yes"), rule("fish", "no", pet=["fish"])])
    runs = [scenarios.run(version, Scenario("fish", {"pet": "fish", "indoors": "no"}))]

    assert scenarios.uncovered_rules(version, runs) == ["default"]
