"""What would change a result: the smallest changes to the answers that give another verdict.

Pure like the engine: it works on `engine.Version` and asks `engine.evaluate` for every verdict it
reports, so whatever the rules say is what it says; nothing here knows about a particular policy.

Semantics:
- A change is a set of edits to a complete answer set (the answers on its path). After the edits
  the flow is walked again: answers that fall off the path are dropped, answers still on it are
  kept. If the edits put new questions on the path, every way of answering them (a completion)
  is considered; an edited question must be on the path in at least one of them. A change names
  a verdict only when every completion consistent with it gives that verdict, so a sentence
  never promises what another answer would undo. When completions disagree, the fewest answers
  to the new questions that settle each other verdict become edits too ("PHI: Yes" and "BAA:
  No"); new questions whose answers do not matter are listed in `more_questions`.
- Candidates are every other choice of one answer on the path and, while those give fewer than
  `limit` changes, pairs of such edits where neither edit changes the verdict on its own (a pair
  that contains a change is not a smaller change) and whose completions all agree. A change that
  keeps the verdict, or leads to no verdict at all, is never reported. A change has at most
  MAX_EDITS edits; three arise only from one edit whose new questions need two answers.
- Only questions marked actionable (choices the person can make, not circumstances) are edited
  or settled.
- Smallest first: fewest edits, then the least strict verdict (verdict outcomes are ordered
  strictest first), then question order, then choice order. `preferred_changes` then puts first,
  among equally few edits, the changes of lowest total `change_cost` (data: what a person gives
  up by changing that answer, such as the tool they came to use), then those that keep more of
  the earlier answers. Changes to the same questions with the same verdict whose choices form a
  cross product are one change with `alternatives` ("plan: Bedrock, Vertex or Foundry"), so
  three ways of picking a plan do not crowd out another question.
- Cost: before a candidate is evaluated, the rules (as bitmasks, built once per version) rule
  out most candidates that cannot give another verdict, and pairs are tried one target verdict
  at a time, least strict first, stopping once no untried pair could enter the result. Both only
  skip work: `prune=False` evaluates every candidate and gives the same result (tested).
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from . import engine

Evaluate = Callable[[engine.Version, Mapping[str, str]], engine.Decision]

# Bounds that keep one call cheap on any policy. Edits whose new questions have more completions
# than this are not reported (their effect is too open to put in one sentence).
MAX_COMPLETIONS = 256
# The most edits in a change: a longer list of changes is no longer an answer to "what would
# change this", and the bound keeps the search for settling answers small.
MAX_EDITS = 3


@dataclass(frozen=True)
class Edit:
    question: str
    question_text: str
    from_choice: str | None  # None when the change newly puts the question on the path
    from_label: str | None
    to_choice: str
    to_label: str


@dataclass(frozen=True)
class Change:
    edits: tuple[Edit, ...]  # in question order
    verdict: engine.Item
    # Questions the change newly puts on the path whose answers do not change its verdict.
    more_questions: tuple[str, ...] = ()
    # Other choices for the edited questions that give the same verdict: each may replace the
    # edit of its question in `edits`, in any combination.
    alternatives: tuple[Edit, ...] = ()
    sentence: str = ""


class ChoiceEffect(NamedTuple):
    choice: str
    # The verdicts this choice can lead to, strictest first: one when the choice settles it, more
    # when it depends on the answers to questions the choice puts on the path.
    verdicts: tuple[str, ...]


def what_would_change(
    version: engine.Version,
    answers: Mapping[str, str],
    *,
    limit: int = 3,
    evaluate: Evaluate = engine.evaluate,
    prune: bool = True,
) -> tuple[Change, ...]:
    """The `limit` smallest changes to a complete answer set that give another verdict, smallest
    first. Empty for answers that are invalid or incomplete. `evaluate` and `prune` exist for the
    benchmark and the tests; the result does not depend on them."""
    if limit <= 0:
        return ()
    search = _Search(version, answers, evaluate, prune)
    if not search.complete:
        return ()
    candidates = [c for outcome in search.singles().values() for c in outcome.candidates]
    if len(_group([c for c in candidates if len(c.edits) == 1], limit)) < limit:
        candidates += search.pairs(candidates, limit)
    return tuple(_change(search, group) for group in _group(candidates, limit))


def preferred_changes(
    version: engine.Version, answers: Mapping[str, str], *, limit: int = 3
) -> tuple[Change, ...]:
    """The changes to show a person: of the smallest changes (twice `limit` of them), those with
    fewest edits first; among equally few, the lowest total `change_cost` of the questions they
    edit (the policy's data says that changing the tool costs a person more than changing the
    plan), then the one whose first edit comes latest in the flow, since it keeps what the
    earlier questions settled and changes a detail."""
    position = {q.key: i for i, q in enumerate(version.questions)}
    cost = {q.key: q.change_cost for q in version.questions}
    found = what_would_change(version, answers, limit=2 * limit)
    ranked = sorted(
        found,
        key=lambda change: (
            len(change.edits),
            sum(cost[edit.question] for edit in change.edits),
            -position[change.edits[0].question],
        ),
    )
    return tuple(ranked[:limit])


def changes_by_question(
    version: engine.Version,
    answers: Mapping[str, str],
    *,
    evaluate: Evaluate = engine.evaluate,
    prune: bool = True,
) -> dict[str, list[ChoiceEffect]]:
    """For every question answered on the path, in order, the other choices that would or could
    change the verdict on their own. Empty for answers that are invalid or incomplete."""
    search = _Search(version, answers, evaluate, prune)
    if not search.complete:
        return {}
    by_question: dict[str, list[ChoiceEffect]] = {key: [] for key in search.base}
    for (key, choice), outcome in search.singles().items():
        if outcome.verdicts and outcome.verdicts != (search.current,):
            by_question[key].append(ChoiceEffect(choice, outcome.verdicts))
    return by_question


# --- what is known about a version, built once -------------------------------------------------


class _Facts:
    """Lookups that depend only on the version, and its verdict rules as bits (one per rule):
    for each question and choice, the rules that accept that answer or do not test the question.
    """

    def __init__(self, version: engine.Version) -> None:
        questions = version.questions
        self.position = {q.key: i for i, q in enumerate(questions)}
        # Only choices the person can make are varied, never circumstances (the data says which).
        self.actionable = frozenset(q.key for q in questions if q.actionable)
        self.choices = {q.key: q.choice_keys for q in questions}
        self.choice_index = {q.key: {c: i for i, c in enumerate(q.choice_keys)} for q in questions}
        self.texts = {q.key: q.text for q in questions}
        self.labels = {q.key: {c.key: c.label for c in q.choices} for q in questions}
        self.verdicts = [o.key for o in version.outcomes_of(engine.VERDICT)]  # strictest first
        self.strictness = {key: i for i, key in enumerate(self.verdicts)}

        rules = [rule for rule in version.rules if rule.table == engine.VERDICT]
        self.all = (1 << len(rules)) - 1
        self.outcome_bits = dict.fromkeys(self.verdicts, 0)
        for i, rule in enumerate(rules):
            self.outcome_bits[rule.outcome] |= 1 << i
        self.stricter = {
            key: sum(self.outcome_bits[k] for k in self.verdicts[:i])
            for i, key in enumerate(self.verdicts)
        }
        self.priority = version.hit_policies.get(engine.VERDICT) is engine.HitPolicy.PRIORITY
        self.tests: dict[str, int] = {}
        self.accepts: dict[str, dict[str, int]] = {}
        for question in questions:
            tested = [dict(rule.conditions).get(question.key) for rule in rules]
            tests = sum(1 << i for i, choices in enumerate(tested) if choices is not None)
            self.tests[question.key] = tests
            self.accepts[question.key] = {
                choice: (self.all & ~tests)
                | sum(1 << i for i, ch in enumerate(tested) if ch is not None and choice in ch)
                for choice in question.choice_keys
            }
        self.conditional = [(q.key, q.shown_when) for q in questions if q.shown_when]
        self.shown_when = dict(self.conditional)
        # Per question, the rules testing a question that editing it may take off the path: those
        # whose "shown when" names it, and so on down.
        naming: dict[str, set[str]] = {q.key: set() for q in questions}
        for key, shown_when in self.conditional:
            for conj in shown_when:
                for test, _ in conj:
                    naming[test].add(key)
        self.downstream_tests: dict[str, int] = {}
        for key in naming:
            reached: set[str] = set()
            todo = list(naming[key])
            while todo:
                later = todo.pop()
                if later not in reached:
                    reached.add(later)
                    todo += naming[later]
            self.downstream_tests[key] = sum((self.tests[q] for q in reached), 0)


_FACTS: dict[int, tuple[weakref.ref[engine.Version], _Facts]] = {}


def _facts(version: engine.Version) -> _Facts:
    """The version's facts, kept while the version lives (a Version is not hashable, so they are
    keyed by identity and dropped when the version is collected)."""
    key = id(version)
    entry = _FACTS.get(key)
    if entry is not None and entry[0]() is version:
        return entry[1]
    facts = _Facts(version)
    _FACTS[key] = (weakref.ref(version, lambda _: _FACTS.pop(key, None)), facts)
    return facts


# --- the search ----------------------------------------------------------------------------------

Answer = tuple[str, str]  # (question, choice)
Leaf = tuple[dict[str, str], engine.Decision]  # a completion: the answers it adds, its decision


@dataclass(frozen=True)
class _Candidate:
    edits: tuple[Answer, ...]  # in question order
    verdict: engine.Item
    more_questions: tuple[str, ...]
    sort_key: tuple = field(compare=False)


@dataclass(frozen=True)
class _Outcome:
    verdicts: tuple[str, ...]  # every verdict the edits can lead to, strictest first
    candidates: tuple[_Candidate, ...]  # the changes they give, settled where needed


_NOTHING = _Outcome((), ())


class _Search:
    def __init__(
        self,
        version: engine.Version,
        answers: Mapping[str, str],
        evaluate: Evaluate,
        prune: bool,
    ) -> None:
        self.version = version
        self.evaluate = evaluate
        self.facts = facts = _facts(version)
        decision = evaluate(version, dict(answers))
        self.complete = decision.complete
        self.base: dict[str, str] = dict(decision.answers)
        self.current = decision.verdict.key if decision.verdict else None
        # The verdicts a change can lead to, least strict first.
        self.targets = [key for key in reversed(facts.verdicts) if key != self.current]
        self.edits = [
            (key, choice)
            for key, answer in self.base.items()
            if key in facts.actionable
            for choice in facts.choices[key]
            if choice != answer
        ]
        self._singles: dict[Answer, _Outcome] | None = None
        self._filter = _Filter(facts, self.base, self.current) if prune else None

    def singles(self) -> dict[Answer, _Outcome]:
        """What each single edit leads to (edits that cannot change the verdict are left out)."""
        if self._singles is None:
            self._singles = {}
            for edit in self.edits:
                if self._filter is None or self._filter.reachable([edit]):
                    self._singles[edit] = self.settle((edit,))
        return self._singles

    def pairs(self, found: list[_Candidate], limit: int) -> list[_Candidate]:
        """Changes of two answers, neither of which changes the verdict on its own (`found` holds
        the changes already known). Pairs are tried one target verdict at a time, least strict
        first, and only while a pair may still be among the `limit` smallest changes."""
        singles = self.singles()
        changing = {
            edit
            for edit, outcome in singles.items()
            if len(outcome.verdicts) == 1 and outcome.verdicts[0] != self.current
        }
        edits = [edit for edit in self.edits if edit not in changing]
        # Each pair is tried with the least strict verdict it may lead to (without the filter,
        # every pair is tried with the least strict verdict of all).
        by_target: dict[str, list[tuple[Answer, Answer]]] = {key: [] for key in self.targets}
        if self._filter is None:
            if self.targets:
                by_target[self.targets[0]] = [
                    (a, b) for a, b in itertools.combinations(edits, 2) if a[0] != b[0]
                ]
        else:
            for pair, reachable in self._filter.reachable_pairs(edits):
                by_target[reachable[-1]].append(pair)
        candidates: list[_Candidate] = []
        groups: list[_Group] = []
        grouped = -1  # how many candidates `groups` was made from
        for target in self.targets:
            for pair in by_target[target]:
                candidates += self.settle(pair, agreeing=True).candidates
            if grouped != len(candidates):
                groups, grouped = _group(found + candidates, limit), len(candidates)
            # What is left gives a stricter verdict: it cannot displace a group that is no bigger
            # and no stricter.
            if len(groups) == limit and groups[-1].first.sort_key[:2] <= (
                2,
                -self.facts.strictness[target],
            ):
                break
        return candidates

    def settle(self, edits: tuple[Answer, ...], *, agreeing: bool = False) -> _Outcome:
        """What the edits lead to, over every completion of the questions they put on the path.
        An edited question must be on the path in some completion, or the edit changes nothing;
        where another edit takes it off the path it is ignored, as the walk ignores it. With
        `agreeing`, only a verdict that every completion gives is looked for, and the first
        completion that disagrees (or keeps the current verdict) ends the search with nothing."""
        leaves: list[Leaf] = []
        agreed: str | None = None
        unasked = {key for key, _ in edits}
        for added, decision in self.completions({**self.base, **dict(edits)}):
            leaves.append((added, decision))
            if unasked:
                unasked = {key for key in unasked if key not in decision.answers}
            if len(leaves) > MAX_COMPLETIONS:
                return _NOTHING
            if agreeing and added:
                verdict = decision.verdict.key if decision.verdict else None
                if verdict is None or verdict == self.current or agreed not in (None, verdict):
                    return _NOTHING
                agreed = verdict
        return _NOTHING if unasked else self.conclude(edits, leaves)

    def conclude(self, edits: tuple[Answer, ...], leaves: list[Leaf]) -> _Outcome:
        if len(leaves) == 1 and not leaves[0][0]:  # the edits leave nothing open
            verdict = leaves[0][1].verdict
            if verdict is None:
                return _NOTHING
            if verdict.key == self.current:
                return _Outcome((verdict.key,), ())
            return _Outcome((verdict.key,), (self.candidate(edits, verdict, ()),))
        found = {d.verdict.key for _, d in leaves if d.verdict}
        verdicts = tuple(sorted(found, key=self.facts.strictness.__getitem__))
        if not verdicts or verdicts == (self.current,):
            return _Outcome(verdicts, ())
        return _Outcome(verdicts, tuple(self.settling_answers(edits, leaves)))

    def completions(self, answers: dict[str, str]) -> Iterator[Leaf]:
        """Every way of answering the questions the edits put on the path, in depth-first order.

        Every question not answered yet gets an answer (its first choice to begin with), so each
        evaluation is a whole completion; the next one moves the deepest new question on its
        path to its next choice and puts the questions after it back to their first."""
        facts = self.facts
        choices, position = facts.choices, facts.position
        open_ = [key for key in facts.position if key not in answers]
        filled = {key: choices[key][0] for key in open_}
        while True:
            decision = self.evaluate(self.version, {**answers, **filled})
            added = {key: filled[key] for key in decision.answers if key in filled}
            yield added, decision
            for key in reversed(added):
                options = choices[key]
                at = options.index(filled[key]) + 1
                if at < len(options):
                    filled[key] = options[at]
                    for later in open_:
                        if position[later] > position[key]:
                            filled[later] = choices[later][0]
                    break
            else:
                return

    def settling_answers(
        self, edits: tuple[Answer, ...], leaves: Sequence[Leaf]
    ) -> Iterable[_Candidate]:
        """For each other verdict some completion gives, the fewest answers to the new questions
        that give it however the remaining new questions are answered (first in question and
        choice order among equally few). Leaves are bits, so each try is a few integer ANDs."""
        everything = (1 << len(leaves)) - 1
        asked: dict[str, int] = {}  # new question -> the leaves that ask it
        agree: dict[Answer, int] = {}  # (question, choice) -> the leaves that answer it so
        by_verdict: dict[str | None, int] = {}
        for i, (added, decision) in enumerate(leaves):
            bit = 1 << i
            for key, choice in added.items():
                asked[key] = asked.get(key, 0) | bit
                agree[key, choice] = agree.get((key, choice), 0) | bit
            verdict = decision.verdict.key if decision.verdict else None
            by_verdict[verdict] = by_verdict.get(verdict, 0) | bit
        position = self.facts.position
        every_new = sorted(asked, key=position.__getitem__)
        # A circumstance newly asked is not something to answer differently: it stays open.
        new = [k for k in every_new if k in self.facts.actionable]
        wanted = set(by_verdict) - {self.current, None}
        for size in range(min(len(new), MAX_EDITS - len(edits)) + 1):
            for keys in itertools.combinations(new, size):
                for choices in itertools.product(*(self.facts.choices[key] for key in keys)):
                    if not wanted:
                        return
                    # The leaves where each fixed answer is given or its question is not asked.
                    consistent = everything
                    for key, choice in zip(keys, choices, strict=True):
                        consistent &= (everything ^ asked[key]) | agree.get((key, choice), 0)
                    # Every fixed answer must be asked in some completion, or it is no edit.
                    if not consistent or any(not consistent & asked[key] for key in keys):
                        continue
                    hit = [v for v, mask in by_verdict.items() if mask & consistent]
                    if len(hit) != 1 or hit[0] not in wanted:
                        continue
                    wanted.discard(hit[0])
                    more = [k for k in every_new if asked[k] & consistent and k not in keys]
                    item = leaves[(consistent & -consistent).bit_length() - 1][1].verdict
                    assert item is not None
                    settled = sorted(
                        (*edits, *zip(keys, choices, strict=True)), key=lambda e: position[e[0]]
                    )
                    yield self.candidate(tuple(settled), item, tuple(more))

    def candidate(
        self, edits: tuple[Answer, ...], verdict: engine.Item, more: tuple[str, ...]
    ) -> _Candidate:
        facts = self.facts
        sort_key = (
            len(edits),
            -facts.strictness.get(verdict.key, -1),  # least strict first
            tuple(facts.position[key] for key, _ in edits),
            tuple(facts.choice_index[key][choice] for key, choice in edits),
        )
        return _Candidate(edits, verdict, more, sort_key)


class _Filter:
    """Necessary conditions for edits to give a verdict other than the current one, read off the
    rules, so that most candidates that cannot change anything are never evaluated.

    - A verdict needs a rule with that outcome to match the new answers. Such a rule's tests of
      questions on the current path see the edited answers (or fail, when the question leaves the
      path), so the rule must accept them; questions off the current path may still come on it
      and are not held against the rule.
    - Under the priority hit policy, a rule with a stricter outcome that certainly matches (it
      accepts the edited answers and tests only questions that certainly stay on the path) rules
      the verdict out.
    - An edit to a question that the other edit certainly takes off the path changes nothing."""

    def __init__(self, facts: _Facts, base: Mapping[str, str], current: str | None) -> None:
        self.facts = facts
        self.base = base
        self.base_accepts = {key: facts.accepts[key][answer] for key, answer in base.items()}
        # The rules that test no question off the current path.
        self.on_path = facts.all
        for key, tests in facts.tests.items():
            if key not in base:
                self.on_path &= ~tests
        self.others = facts.all & ~facts.outcome_bits.get(current or "", 0)
        self._untouched: dict[tuple[str, ...], int] = {}

    def untouched(self, edited: tuple[str, ...]) -> int:
        """The rules that accept the current answers to the questions not edited."""
        rules = self._untouched.get(edited)
        if rules is None:
            rules = self.facts.all
            for key, accepts in self.base_accepts.items():
                if key not in edited:
                    rules &= accepts
            self._untouched[edited] = rules
        return rules

    def reachable(self, edits: Sequence[Answer]) -> list[str]:
        """The verdicts the edits may lead to, strictest first (a superset of the real ones)."""
        accepts = self.facts.accepts
        accepted = self.untouched(tuple(key for key, _ in edits))
        for key, choice in edits:
            accepted &= accepts[key][choice]
        return self._reachable(edits, accepted) if accepted & self.others else []

    def reachable_pairs(
        self, edits: Sequence[Answer]
    ) -> Iterable[tuple[tuple[Answer, Answer], list[str]]]:
        """`reachable` for every pair of the edits (on two questions), leaving out the pairs that
        can reach nothing. The rule bits are narrowed one question and one choice at a time, and
        so are the outcomes that rules certainly matching leave possible, so most pairs are ruled
        out a whole row at a time."""
        facts = self.facts
        accepts, tests, downstream = facts.accepts, facts.tests, facts.downstream_tests
        by_question: dict[str, list[str]] = {}
        for key, choice in edits:
            by_question.setdefault(key, []).append(choice)
        for first, second in itertools.combinations(by_question, 2):
            untouched = self.untouched((first, second))
            # Rules testing a question that the edits may take off the path.
            may_leave = downstream[first] | downstream[second]
            # Rules that certainly match whatever the two questions are answered.
            wanted = self._cap(
                untouched & self.on_path & ~(tests[first] | tests[second] | may_leave)
            )
            if not untouched & wanted:
                continue
            for first_choice in by_question[first]:
                narrowed = untouched & accepts[first][first_choice]
                # Rules that certainly match whatever the second question is answered.
                row = wanted & self._cap(narrowed & self.on_path & ~(tests[second] | may_leave))
                if not narrowed & row:
                    continue
                for second_choice in by_question[second]:
                    accepted = narrowed & accepts[second][second_choice]
                    if accepted & row:
                        pair = ((first, first_choice), (second, second_choice))
                        reachable = self._reachable(pair, accepted)
                        if reachable:
                            yield pair, reachable

    def _cap(self, certain: int) -> int:
        """The rules with another outcome than the current one that can still decide the verdict
        when the `certain` rules match: under the priority hit policy, those no less strict than
        the strictest of them."""
        facts = self.facts
        if certain and facts.priority:
            for outcome in facts.verdicts:
                if certain & facts.outcome_bits[outcome]:
                    return self.others & (facts.stricter[outcome] | facts.outcome_bits[outcome])
        return self.others

    def _reachable(self, edits: Sequence[Answer], accepted: int) -> list[str]:
        """The outcomes of the `accepted` rules (those accepting the edited answers on the current
        path) that no certainly matching stricter rule rules out."""
        facts = self.facts
        possible = accepted & self.others
        verdicts = [o for o in facts.verdicts if possible & facts.outcome_bits[o]]
        if not facts.priority:
            return verdicts
        # Rules that match whatever comes on the path, unless a question they test leaves it.
        matching = accepted & self.on_path
        downstream = 0  # rules testing a question that editing may take off the path
        for key, _ in edits:
            downstream |= facts.downstream_tests[key]
        leaving: int | None = None  # the same, narrowed to what the edits may really remove
        reachable = []
        for outcome in verdicts:
            blocking = matching & facts.stricter[outcome]
            if blocking:
                if blocking & ~downstream:
                    continue
                if leaving is None:
                    leaving = 0
                    for key in self._may_leave(dict(edits)):
                        leaving |= facts.tests[key]
                if blocking & ~leaving:
                    continue
            reachable.append(outcome)
        if reachable and len(edits) > 1:
            changed = dict(edits)
            if any(self._certainly_off(key, changed) for key in changed):
                return []
        return reachable

    def _certainly_off(self, key: str, edits: Mapping[str, str]) -> bool:
        """Every condition that shows `key` refuses an answer on the current path (a question
        that leaves the path fails the test too)."""
        shown_when = self.facts.shown_when.get(key)
        if not shown_when:
            return False
        base = self.base
        return all(
            any(
                test in base and edits.get(test, base[test]) not in choices
                for test, choices in conj
            )
            for conj in shown_when
        )

    def _may_leave(self, edits: Mapping[str, str]) -> set[str]:
        """The questions on the current path that the edits may take off it: those not shown by a
        condition that certainly still holds."""
        base = self.base
        leaving: set[str] = set()
        for key, shown_when in self.facts.conditional:
            if key not in base:
                continue
            for conj in shown_when:
                for test, choices in conj:
                    if test in leaving or test not in base:
                        break
                    if edits.get(test, base[test]) not in choices:
                        break
                else:
                    break  # this condition certainly holds
            else:
                leaving.add(key)
        return leaving


# --- grouping and wording ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """Changes with the same verdict, edited questions and further questions whose choices form
    a cross product: any of the choices for each question, in any combination."""

    first: _Candidate
    choices: tuple[tuple[str, ...], ...]  # per edit of `first`, its choice first

    @property
    def alternatives(self) -> list[Answer]:
        return [
            (key, choice)
            for (key, _), choices in zip(self.first.edits, self.choices, strict=True)
            for choice in choices[1:]
        ]


def _group(candidates: list[_Candidate], limit: int) -> list[_Group]:
    """The `limit` smallest changes, deduplicated, each folding in the candidates that differ
    from it only in their choices, as long as together they form a cross product."""
    kinds: dict[tuple, dict[tuple[str, ...], _Candidate]] = {}
    for candidate in sorted(candidates, key=lambda c: c.sort_key):
        kind = (
            candidate.verdict.key,
            candidate.more_questions,
            tuple(key for key, _ in candidate.edits),
        )
        kinds.setdefault(kind, {}).setdefault(tuple(c for _, c in candidate.edits), candidate)
    groups: list[_Group] = []
    for members in kinds.values():
        left = dict(members)  # in sort order
        while left:
            start, first = next(iter(left.items()))
            box = [[choice] for choice in start]
            # Widen one question at a time by a choice whose every combination is a member.
            for i, choices in enumerate(box):
                for other in left:
                    choice = other[i]
                    if choice not in choices and all(
                        combination in left
                        for combination in itertools.product(*box[:i], [choice], *box[i + 1 :])
                    ):
                        choices.append(choice)
            for combination in itertools.product(*box):
                del left[combination]
            groups.append(_Group(first, tuple(tuple(choices) for choices in box)))
    groups.sort(key=lambda group: group.first.sort_key)
    return groups[:limit]


def _change(search: _Search, group: _Group) -> Change:
    texts, labels = search.facts.texts, search.facts.labels

    def edit(key: str, choice: str) -> Edit:
        before = search.base.get(key)
        return Edit(
            question=key,
            question_text=texts[key],
            from_choice=before,
            from_label=labels[key][before] if before is not None else None,
            to_choice=choice,
            to_label=labels[key][choice],
        )

    candidate = group.first
    edits = tuple(edit(key, choice) for key, choice in candidate.edits)
    alternatives = tuple(edit(key, choice) for key, choice in group.alternatives)
    more = [texts[key] for key in candidate.more_questions]
    return Change(
        edits=edits,
        verdict=candidate.verdict,
        more_questions=candidate.more_questions,
        alternatives=alternatives,
        sentence=sentence(edits, alternatives, more, candidate.verdict.title),
    )


def sentence(
    edits: Sequence[Edit], alternatives: Sequence[Edit], more_questions: Sequence[str], title: str
) -> str:
    """“With “Question?” answered “Yes” or “Not sure”, and whatever you then answer to “Other
    question?”, the result would be: Verdict.”"""
    parts = []
    for edit in edits:
        labels = [edit.to_label] + [a.to_label for a in alternatives if a.question == edit.question]
        parts.append(f"“{edit.question_text}” answered {_listing(labels, 'or', quote=True)}")
    whatever = (
        f", and whatever you then answer to {_listing(more_questions, 'and', quote=True)}"
        if more_questions
        else ""
    )
    return f"With {_listing(parts, 'and')}{whatever}, the result would be: {title.rstrip(' .')}."


def _listing(parts: Sequence[str], conjunction: str, *, quote: bool = False) -> str:
    words = [f"“{part}”" for part in parts] if quote else list(parts)
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {conjunction} " + words[-1]
