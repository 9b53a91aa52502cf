"""Static checks of a policy version over the answer sets its question flow can reach.

Pure like the engine: it works on `engine.Version` and never touches the database.

`check(version)` returns a list of `Finding`s, errors first. Errors block publishing:

- `gap`: reachable complete answer sets that no verdict rule matches (one finding per region, the
  largest first, at most `GAP_REGIONS_SHOWN`, then one finding counting the rest);
- `conflict`: in a table with the `first` hit policy, two rules with the same priority and
  different outcomes both match a reachable answer set where no lower-priority rule does, so the
  result depends on the order the rules happen to be stored in;
- `rule_without_clause`: a rule that cites nothing.

Warnings point at dead weight or likely mistakes:

- `unreachable_rule`: a rule that matches no reachable answer set;
- `shadowed_rule`: in a `priority` or `first` table, a rule that matches somewhere but never
  decides, because a stricter outcome (or an earlier rule) always wins where it matches;
- `unreachable_question`: a question that no path asks;
- `dead_condition`: a test in a rule's conditions (or a question's `shown_when`) on a question
  that is never asked where the rest of that condition holds, so the test can never be met;
- `outcome_without_text`, `unused_outcome` (no rule produces it);
- `uncited_clause`: a clause that no rule cites. Clauses whose key starts with `security-` are
  exempt by convention: the result page shows them on every result on its own, without a rule.

How: the answer sets are never enumerated. A set of answer sets is a union of disjoint "cubes":
one bitmask per question of the values allowed there, where bit 0 stands for "not asked" and bit
j + 1 for the question's j-th choice. The reachable region is built once by splitting cubes on each
question's `shown_when`; every rule's conditions and every `shown_when` alternative is itself a
cube (a test on a question needs it answered, so its mask never has bit 0). Gaps are the reachable
region minus the verdict rules' cubes, found by recursive cube subtraction; shadowing and
conflicts are the same subtraction with other rule sets, stopped at the first answer set left over.
Examples are single answer sets picked from a cube, and `engine.evaluate` confirms them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from . import engine

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

# Clauses that the result page shows by themselves (see the module docstring).
STANDING_CLAUSE_PREFIX = "security-"
# How many gap regions get a finding each; the rest are counted in one more finding.
GAP_REGIONS_SHOWN = 5
# A bound on the pieces a gap search may produce, so a pathological policy cannot hang a save.
GAP_PIECE_LIMIT = 20_000
# Conflicting pairs reported one by one; the rest are counted.
CONFLICTS_SHOWN = 10

NOT_ASKED = 1  # bit 0 of every question's mask

Cube = tuple[int, ...]  # per question (in question order), the mask of values allowed
Test = tuple[tuple[int, int], ...]  # (question index, mask of choices) for each tested question


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    subject: str  # the id of the rule, question, outcome or clause concerned ("verdict" for gaps)
    message: str  # plain words, for the admin and the command line
    example: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Other ids the finding is about: the other rule of a conflict, the rules that win over a
    # shadowed one, the question a dead condition tests.
    related: tuple[str, ...] = ()

    @property
    def example_text(self) -> str:
        return describe(self.example)

    def __str__(self) -> str:
        text = f"{self.severity} {self.code} {self.subject}: {self.message}"
        return f"{text} (for example {self.example_text})" if self.example else text


def reachable_answer_sets(version: engine.Version) -> Iterator[dict[str, str]]:
    """Every complete answer set the question flow can produce, depth first in question order.

    Each set holds exactly the questions on its path, so no two sets are equal."""
    stack: list[dict[str, str]] = [{}]
    while stack:
        answers = stack.pop()
        question = engine.next_question(version, answers)
        if question is None:
            yield answers
            continue
        for choice in reversed(question.choices):
            stack.append({**answers, question.key: choice.key})


def describe(answers: Mapping[str, str]) -> str:
    """A readable counterexample: "plan=team, tool=own_app, phi=no"."""
    return ", ".join(f"{key}={value}" for key, value in answers.items())


def gaps(version: engine.Version) -> list[dict[str, str]]:
    """Every reachable complete answer set that gets no verdict, region by region. (Expanding the
    regions can be slow when they are huge; `check` only counts them.)"""
    space = _Space(version)
    return [answers for cube in gap_regions(version) for answers in space.answer_sets(cube)]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(finding.severity == ERROR for finding in findings)


# --- cubes ----------------------------------------------------------------------------------------


class _Space:
    """The questions of one version as cube dimensions."""

    def __init__(self, version: engine.Version) -> None:
        self.questions = version.questions
        self.index = {q.key: i for i, q in enumerate(version.questions)}
        self.bits = [
            {choice: 1 << (j + 1) for j, choice in enumerate(q.choice_keys)}
            for q in version.questions
        ]
        # Every choice of each question, without "not asked".
        self.answered = [((1 << (len(q.choices) + 1)) - 1) & ~NOT_ASKED for q in version.questions]

    def test(self, conj: engine.Conjunction) -> Test:
        return tuple(
            sorted(
                (self.index[key], sum(self.bits[self.index[key]][c] for c in choices))
                for key, choices in conj
            )
        )

    def point(self, cube: Cube) -> dict[str, str]:
        """One answer set of a (non-empty, reachable) cube: the first allowed choice of each
        question on its path."""
        answers = {}
        for question, mask in zip(self.questions, cube, strict=True):
            if mask & NOT_ASKED:
                continue
            lowest = (mask & -mask).bit_length() - 2
            answers[question.key] = question.choices[lowest].key
        return answers

    def answer_sets(self, cube: Cube) -> Iterator[dict[str, str]]:
        """Every answer set in a cube (None stands for "not asked")."""
        values = [
            ([None] if mask & NOT_ASKED else [])
            + [c for j, c in enumerate(q.choice_keys) if mask >> (j + 1) & 1]
            for q, mask in zip(self.questions, cube, strict=True)
        ]
        for combination in itertools.product(*values):
            yield {
                q.key: choice
                for q, choice in zip(self.questions, combination, strict=True)
                if choice is not None
            }

    def region(self, cube: Cube) -> str:
        """What a cube narrows down, in words: "plan is free or pro and tool is own_app"."""
        return self.words(
            tuple(
                (i, mask)
                for i, mask in enumerate(cube)
                if not mask & NOT_ASKED and mask != self.answered[i]
            )
        )

    def words(self, test: Test) -> str:
        parts = []
        for i, mask in test:
            question = self.questions[i]
            chosen = [c for j, c in enumerate(question.choice_keys) if mask >> (j + 1) & 1]
            left_out = [c for c in question.choice_keys if c not in chosen]
            if not left_out:
                parts.append(f"{question.key} is answered")
            elif len(left_out) == 1 and len(chosen) > 1:
                parts.append(f"{question.key} is not {left_out[0]}")
            elif len(left_out) < len(chosen):
                parts.append(f"{question.key} is none of {', '.join(left_out)}")
            else:
                parts.append(f"{question.key} is {_either(chosen)}")
        return _and(parts) if parts else "any answers"


def _either(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _meets(cube: Cube, test: Test) -> bool:
    return all(cube[i] & mask for i, mask in test)


def _inside(cube: Cube, test: Test) -> bool:
    return all(not cube[i] & ~mask for i, mask in test)


def _intersect(cube: Cube, test: Test) -> Cube | None:
    narrowed = list(cube)
    for i, mask in test:
        narrowed[i] &= mask
        if not narrowed[i]:
            return None
    return tuple(narrowed)


def _minus(cube: Cube, test: Test) -> list[Cube]:
    """Disjoint cubes covering `cube` outside `test`: for each tested question in turn, the part
    that fails it while passing the tests before it."""
    pieces = []
    rest = list(cube)
    for i, mask in test:
        outside = rest[i] & ~mask
        if outside:
            piece = rest.copy()
            piece[i] = outside
            pieces.append(tuple(piece))
        rest[i] &= mask
        if not rest[i]:
            break
    return pieces


def _with(cube: Cube, i: int, mask: int) -> Cube:
    return (*cube[:i], mask, *cube[i + 1 :])


def cube_size(cube: Cube) -> int:
    """How many answer sets a cube holds."""
    size = 1
    for mask in cube:
        size *= mask.bit_count()
    return size


def _uncovered(cube: Cube, covers: Sequence[Test]) -> Iterator[Cube]:
    """Disjoint cubes covering the part of `cube` that no test in `covers` contains, found by
    splitting on one cover at a time. A generator, so a caller asking "is anything left?" stops at
    the first piece."""
    stack: list[tuple[Cube, Sequence[Test]]] = [(cube, covers)]
    while stack:
        cube, covers = stack.pop()
        live: list[Test] = []
        covered = False
        for test in covers:
            if _meets(cube, test):
                if _inside(cube, test):
                    covered = True
                    break
                live.append(test)
        if covered:
            continue
        if not live:
            yield cube
            continue
        # Splitting on the cover that cuts the fewest questions makes the fewest pieces.
        best = min(live, key=lambda test: sum(1 for i, mask in test if cube[i] & ~mask))
        for piece in _minus(cube, best):
            stack.append((piece, live))


def _merge(cubes: list[Cube]) -> list[Cube]:
    """Join disjoint cubes that differ in one question only, until none do, so that a gap shows up
    as a few readable regions rather than the fragments the subtraction happened to cut."""
    cubes = list(dict.fromkeys(cubes))
    changed = True
    while changed and len(cubes) > 1:
        changed = False
        for i in range(len(cubes[0])):
            groups: dict[Cube, int] = {}
            for cube in cubes:
                key = _with(cube, i, 0)
                groups[key] = groups.get(key, 0) | cube[i]
            if len(groups) < len(cubes):
                changed = True
                cubes = [_with(key, i, mask) for key, mask in groups.items()]
    return cubes


def gap_regions(version: engine.Version, limit: int = GAP_PIECE_LIMIT) -> list[Cube]:
    """Disjoint cubes holding exactly the reachable answer sets that no verdict rule matches (at
    most `limit` pieces before merging), largest first."""
    return _Checker(version).gap_regions(limit)[0]


def reachable_region(version: engine.Version) -> list[Cube]:
    """Disjoint cubes whose answer sets are exactly `reachable_answer_sets(version)`. In each cube,
    every question is either not asked or asked with a set of choices."""
    return _reachable(_Space(version))


def _reachable(space: _Space) -> list[Cube]:
    cubes: list[Cube] = [tuple(mask | NOT_ASKED for mask in space.answered)]
    for i, question in enumerate(space.questions):
        if not question.shown_when:
            shown, hidden = cubes, []
        else:
            # A test on a question not asked before this one never holds (the engine sees it
            # unanswered); `dead_condition` reports it.
            tests = [
                space.test(conj)
                for conj in question.shown_when
                if all(space.index[key] < i for key, _ in conj)
            ]
            shown, hidden = [], cubes
            for test in tests:
                rest = []
                for cube in hidden:
                    inside = _intersect(cube, test)
                    if inside is None:
                        rest.append(cube)
                        continue
                    shown.append(inside)
                    rest.extend(_minus(cube, test))
                hidden = rest
        answered = space.answered[i]
        cubes = [_with(c, i, answered) for c in shown if answered]
        cubes += [_with(c, i, NOT_ASKED) for c in hidden]
    return cubes


# --- the checks -----------------------------------------------------------------------------------


class _Checker:
    def __init__(self, version: engine.Version) -> None:
        self.version = version
        self.space = _Space(version)
        self.region = _reachable(self.space)
        self.tests = {rule.key: self.space.test(rule.conditions) for rule in version.rules}
        self.hit_policies = {
            table: version.hit_policies.get(table, engine.DEFAULT_HIT_POLICIES[table])
            for table in engine.TABLES
        }
        # The engine's own order: by table, then priority, ties in stored order.
        self.ordered = version._compiled.rules
        self.reachable_rules = {
            rule.key for rule in version.rules if self._somewhere(self.tests[rule.key])
        }

    def _somewhere(self, test: Test) -> bool:
        return any(_meets(cube, test) for cube in self.region)

    def _left_over(self, test: Test, covers: Sequence[Test]) -> dict[str, str] | None:
        """An answer set that meets `test` but no cover, if there is one."""
        for cube in self.region:
            inside = _intersect(cube, test)
            if inside is not None:
                for piece in _uncovered(inside, covers):
                    return self.space.point(piece)
        return None

    def findings(self) -> list[Finding]:
        found = [
            *self.gaps(),
            *self.conflicts(),
            *self.rules_without_clause(),
            *self.unreachable_rules(),
            *self.shadowed_rules(),
            *self.unreachable_questions(),
            *self.dead_conditions(),
            *self.outcome_findings(),
            *self.uncited_clauses(),
        ]
        return sorted(found, key=lambda finding: finding.severity != ERROR)

    # Errors.

    def gap_regions(self, limit: int) -> tuple[list[Cube], bool]:
        """The merged gap cubes, largest first, and whether the search finished within `limit`."""
        covers = [self.tests[r.key] for r in self.version.rules if r.table == engine.VERDICT]
        pieces: list[Cube] = []
        for cube in self.region:
            for piece in _uncovered(cube, covers):
                pieces.append(piece)
                if len(pieces) >= limit:
                    return sorted(_merge(pieces), key=cube_size, reverse=True), False
        return sorted(_merge(pieces), key=cube_size, reverse=True), True

    def gaps(self) -> list[Finding]:
        regions, complete = self.gap_regions(GAP_PIECE_LIMIT)
        findings = []
        for cube in regions[:GAP_REGIONS_SHOWN]:
            size = cube_size(cube)
            findings.append(
                Finding(
                    ERROR,
                    "gap",
                    engine.VERDICT,
                    f"No verdict rule matches {_count(size, 'reachable answer set')} where "
                    f"{self.space.region(cube)}.",
                    self.space.point(cube),
                )
            )
        rest = regions[GAP_REGIONS_SHOWN:]
        notes = []
        if rest:
            size = sum(cube_size(cube) for cube in rest)
            verb = "is" if len(rest) == 1 else "are"
            notes.append(
                f"{_count(len(rest), 'more region')} without a verdict "
                f"({_count(size, 'answer set')}) {verb} not listed."
            )
        if not complete:
            notes.append(
                f"The search stopped after {GAP_PIECE_LIMIT} pieces, so there may be more "
                "answer sets without a verdict than these."
            )
        if notes:
            notes.append("Fix the ones above and check again.")
            findings.append(Finding(ERROR, "gap", engine.VERDICT, " ".join(notes)))
        return findings

    def conflicts(self) -> list[Finding]:
        findings: list[Finding] = []
        more: dict[str, int] = {}
        for table in engine.TABLES:
            if self.hit_policies[table] is not engine.HitPolicy.FIRST:
                continue
            rules = [r for r in self.ordered if r.table == table and r.key in self.reachable_rules]
            for a_index, a in enumerate(rules):
                earlier = [self.tests[r.key] for r in rules if r.priority < a.priority]
                for b in rules[a_index + 1 :]:
                    if b.priority != a.priority or b.outcome == a.outcome:
                        continue
                    both = _conjoin(self.tests[a.key], self.tests[b.key])
                    example = None if both is None else self._left_over(both, earlier)
                    if example is None:
                        continue
                    if len(findings) >= CONFLICTS_SHOWN:
                        more[table] = more.get(table, 0) + 1
                        continue
                    findings.append(
                        Finding(
                            ERROR,
                            "conflict",
                            a.key,
                            f"Rules {a.key} ({a.outcome}) and {b.key} ({b.outcome}) both match "
                            f"with priority {a.priority} in the {table} table, whose hit policy "
                            "is 'first': which one wins depends on the order they are stored in. "
                            "Give one of them a lower priority number, or narrow a condition.",
                            example,
                            (b.key,),
                        )
                    )
        for table, count in more.items():
            findings.append(
                Finding(
                    ERROR,
                    "conflict",
                    table,
                    f"{_count(count, 'more conflicting pair')} of rules in the {table} table "
                    f"{'is' if count == 1 else 'are'} not listed.",
                )
            )
        return findings

    def rules_without_clause(self) -> list[Finding]:
        return [
            Finding(
                ERROR,
                "rule_without_clause",
                rule.key,
                f"Rule {rule.key} cites no clause; every answer must rest on a quoted clause.",
            )
            for rule in self.version.rules
            if not rule.clauses
        ]

    # Warnings.

    def unreachable_rules(self) -> list[Finding]:
        return [
            Finding(
                WARNING,
                "unreachable_rule",
                rule.key,
                f"Rule {rule.key} matches no answer set that the questions can produce, so it "
                "never applies.",
            )
            for rule in self.version.rules
            if rule.key not in self.reachable_rules
        ]

    def shadowed_rules(self) -> list[Finding]:
        findings = []
        for table in engine.TABLES:
            policy = self.hit_policies[table]
            if policy is engine.HitPolicy.COLLECT:
                continue
            rules = [r for r in self.ordered if r.table == table]
            rank = {o.key: i for i, o in enumerate(self.version.outcomes_of(table))}
            for index, rule in enumerate(rules):
                if rule.key not in self.reachable_rules:
                    continue
                if policy is engine.HitPolicy.PRIORITY:
                    winners = [r for r in rules if rank[r.outcome] < rank[rule.outcome]]
                    beaten_by = "a rule with a stricter outcome"
                else:
                    winners = rules[:index]
                    beaten_by = "a rule that comes first"
                test = self.tests[rule.key]
                if self._left_over(test, [self.tests[r.key] for r in winners]) is not None:
                    continue
                example = self._left_over(test, []) or {}
                winners_there, in_words = self._decided_by(table, example)
                findings.append(
                    Finding(
                        WARNING,
                        "shadowed_rule",
                        rule.key,
                        f"Rule {rule.key} ({rule.outcome}) never decides the {table}: wherever it "
                        f"matches, {beaten_by} wins; in the example, {in_words} does.",
                        example,
                        winners_there,
                    )
                )
        return findings

    def _decided_by(self, table: str, answers: Mapping[str, str]) -> tuple[tuple[str, ...], str]:
        """The rules that decide `table` for these answers, and those rules in words."""
        decision = engine.evaluate(self.version, dict(answers))
        if table == engine.VERDICT:
            item = decision.verdict
        else:
            item = next(iter(decision.lists.get(table, ())), None)
        if item is None:  # cannot happen for a shadowed rule; kept for safety
            return (), "another rule"
        return item.rules, f"{_and(item.rules)} ({item.key})"

    def unreachable_questions(self) -> list[Finding]:
        return [
            Finding(
                WARNING,
                "unreachable_question",
                question.key,
                f"Question {question.key} is never asked: its 'shown when' condition holds on "
                "no path through the questions before it.",
            )
            for i, question in enumerate(self.version.questions)
            if all(cube[i] == NOT_ASKED for cube in self.region)
        ]

    def dead_conditions(self) -> list[Finding]:
        findings = []
        index = self.space.index
        for i, question in enumerate(self.version.questions):
            for conj in question.shown_when:
                # A test on this question or a later one is unanswered when the alternative is
                # read, so it alone is to blame.
                too_late = [(key, choices) for key, choices in conj if index[key] >= i]
                for key, choices in too_late:
                    findings.append(
                        Finding(
                            WARNING,
                            "dead_condition",
                            question.key,
                            f"Question {question.key} is shown when "
                            f"{self.space.words(self.space.test(((key, choices),)))}, but {key} "
                            f"is asked {'later' if index[key] > i else 'there'}, so that "
                            "alternative never holds.",
                            related=(key,),
                        )
                    )
                if not too_late:
                    for key, _ in conj:
                        findings.extend(self._dead_test(question.key, "shown", conj, key))
        for rule in self.version.rules:
            for key, _ in rule.conditions:
                findings.extend(self._dead_test(rule.key, "rule", rule.conditions, key))
        return findings

    def _dead_test(
        self, subject: str, kind: str, conj: engine.Conjunction, key: str
    ) -> list[Finding]:
        """A finding when `key` is never asked where the rest of `conj` holds (but somewhere the
        rest does hold: otherwise another test is the one to blame)."""
        rest = self.space.test(tuple(test for test in conj if test[0] != key))
        i = self.space.index[key]
        meeting = [cube for cube in self.region if _meets(cube, rest)]
        if not meeting or any(cube[i] != NOT_ASKED for cube in meeting):
            return []
        where = "rule " + subject if kind == "rule" else f"the 'shown when' of question {subject}"
        when = f" when {self.space.words(rest)}" if rest else ""
        return [
            Finding(
                WARNING,
                "dead_condition",
                subject,
                f"The test on {key} in {where} can never hold: {key} is never asked{when}.",
                self.space.point(meeting[0]),
                (key,),
            )
        ]

    def outcome_findings(self) -> list[Finding]:
        produced = {(rule.table, rule.outcome) for rule in self.version.rules}
        findings = []
        for outcome in self.version.outcomes:
            if not outcome.text.strip():
                findings.append(
                    Finding(
                        WARNING,
                        "outcome_without_text",
                        outcome.key,
                        f"Outcome {outcome.key} ({outcome.table}) has no text to explain it.",
                    )
                )
            if (outcome.table, outcome.key) not in produced:
                findings.append(
                    Finding(
                        WARNING,
                        "unused_outcome",
                        outcome.key,
                        f"No rule produces outcome {outcome.key} ({outcome.table}).",
                    )
                )
        return findings

    def uncited_clauses(self) -> list[Finding]:
        cited = {key for rule in self.version.rules for key in rule.clauses}
        return [
            Finding(
                WARNING,
                "uncited_clause",
                clause.key,
                f"No rule cites clause {clause.key}.",
            )
            for clause in self.version.clauses
            if clause.key not in cited and not clause.key.startswith(STANDING_CLAUSE_PREFIX)
        ]


def _conjoin(a: Test, b: Test) -> Test | None:
    """The test that holds where both hold; None when no answer set can pass both."""
    masks = dict(a)
    for i, mask in b:
        masks[i] = masks.get(i, mask) & mask
        if not masks[i]:
            return None
    return tuple(sorted(masks.items()))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check(version: engine.Version) -> list[Finding]:
    """Every finding for one version, errors first (see the module docstring for the codes)."""
    return _Checker(version).findings()
