"""Scenarios: test cases that admins write for a policy, run against one version.

Pure like the engine: a scenario is a dataclass, a version an `engine.Version`; `services.py` reads
the models and decides which scenarios test which version.

Which version a scenario tests (`applies_to`):
- without `as_of`: every draft, and the newest published version ("the policy as it is now and
  as it is about to be");
- with `as_of`: the version that would be in effect on that day if the version under test were
  published, which for a draft means counting it from its effective date. A draft without an
  effective date is tested by no dated scenario (publishing asks for the date and runs them then).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import engine


@dataclass(frozen=True)
class Scenario:
    name: str
    answers: Mapping[str, str]
    verdict: str = ""  # empty: any verdict will do
    includes: tuple[str, ...] = ()  # outcome ids that must appear (any table)
    excludes: tuple[str, ...] = ()  # outcome ids that must not appear
    as_of: dt.date | None = None


@dataclass(frozen=True)
class Run:
    scenario: Scenario
    version: str
    problems: tuple[str, ...]  # empty when the scenario passes
    verdict: str | None = None
    fired: tuple[str, ...] = field(default=(), repr=False)  # the rules behind the decision

    @property
    def passed(self) -> bool:
        return not self.problems


def run(version: engine.Version, scenario: Scenario) -> Run:
    """Evaluate the scenario's answers and compare the decision with what it expects."""
    decision = engine.evaluate(version, dict(scenario.answers))
    if decision.errors:
        unfit = tuple(
            f"The answers do not fit this version: {message}"
            for message in decision.errors.values()
        )
        return Run(scenario, version.version, unfit)
    if decision.next_question is not None:
        question = decision.next_question
        return Run(
            scenario,
            version.version,
            (
                f"The answers are incomplete: question {question.key} "
                f"(“{question.text}”) still needs an answer.",
            ),
        )
    got = decision.verdict.key if decision.verdict else None
    present = {item.key for item in _items(decision)}
    problems: list[str] = []
    if scenario.verdict and got != scenario.verdict:
        problems.append(f"Expected the verdict {scenario.verdict}, got {got or 'no verdict'}.")
    missing = [key for key in scenario.includes if key not in present]
    if missing:
        problems.append(f"Expected {_listed(missing)} in the result, but {_is(missing)} missing.")
    unwanted = [key for key in scenario.excludes if key in present]
    if unwanted:
        problems.append(f"Expected {_listed(unwanted)} not to appear, but {_is(unwanted)} there.")
    return Run(scenario, version.version, tuple(problems), got, decision.fired_rules)


def run_all(version: engine.Version, scenarios: Iterable[Scenario]) -> list[Run]:
    return [run(version, scenario) for scenario in scenarios]


def applies_to(
    scenario: Scenario,
    *,
    effective_date: dt.date | None,
    is_draft: bool,
    published_dates: Sequence[dt.date],
) -> bool:
    """Whether the scenario tests a version with this date and status (see the module docstring).
    `published_dates` are the dates of the policy's published versions, this one included or not."""
    if scenario.as_of is None and is_draft:
        return True
    if effective_date is None:
        return False
    # The version under test stands beside the published ones (one of the same date gives way
    # to it), and the scenario tests it when it is the one in effect on the scenario's day:
    # without a day, the newest.
    this = ("this", effective_date)
    dated = [this] + [("other", day) for day in published_dates if day != effective_date]
    day = scenario.as_of or dt.date.max
    return engine.in_effect(dated, day, effective_date=lambda pair: pair[1]) is this


def uncovered_rules(version: engine.Version, runs: Iterable[Run]) -> list[str]:
    """The rules of the version that no decision of these runs (on this version) rests on, in the
    version's order."""
    fired = {rule for r in runs for rule in r.fired}
    return [rule.key for rule in version.rules if rule.key not in fired]


def _items(decision: engine.Decision) -> list[engine.Item]:
    items = [decision.verdict] if decision.verdict else []
    return items + [item for table_items in decision.lists.values() for item in table_items]


def _listed(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]


def _is(keys: list[str]) -> str:
    return "it is" if len(keys) == 1 else "they are"
