"""Seconds per `analysis.check` on the seeded policies, and how it grows on synthetic policies.

Run: .venv/bin/python bench/analysis.py. Prints tables; asserts nothing. Targets: a seeded version
in under 0.2 s; a synthetic policy of 100 rules over 20 questions in under 5 s.

The synthetic policies are random but seeded: questions with 2-4 choices, about a third of them
shown only for some answers to an earlier question, and rules (three in five of them verdict rules)
that each test a few questions. "broad" rules test 1-3 questions, so they cover the space and
shadow one another; "narrow" rules test 2-5, which leaves many gaps, the hardest case for the
search; "first" is "broad" with the `first` hit policy and random priorities, which adds the
conflict search.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

import django

django.setup()

from policies import analysis, engine  # noqa: E402
from policies.engine import (  # noqa: E402
    Choice,
    Clause,
    HitPolicy,
    Outcome,
    Question,
    Rule,
    Version,
    conjunction,
)
from policies.loading import read_document, seed_files, to_engine  # noqa: E402

ROUNDS = 3
SIZES = [(25, 5), (50, 10), (100, 20), (200, 30)]
FAMILIES = {"broad": (1, 3, False), "narrow": (2, 5, False), "first": (1, 3, True)}


def best_time(version: Version) -> tuple[float, list[analysis.Finding]]:
    best, findings = float("inf"), []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        findings = analysis.check(version)
        best = min(best, time.perf_counter() - start)
    return best, findings


def synthetic(rules: int, questions: int, family: str, seed: int = 0) -> Version:
    fewest, most, first = FAMILIES[family]
    rng = random.Random(seed)
    asked: list[Question] = []
    for i in range(questions):
        choices = tuple(Choice(f"c{j}", f"C{j}") for j in range(rng.randint(2, 4)))
        shown_when: tuple[engine.Conjunction, ...] = ()
        if asked and rng.random() < 0.3:
            earlier = rng.choice(asked)
            allowed = rng.sample(earlier.choice_keys, rng.randint(1, len(earlier.choices) - 1))
            shown_when = (conjunction({earlier.key: allowed}),)
        asked.append(Question(f"q{i}", f"Q{i}?", choices, "", shown_when))
    outcomes = [Outcome("verdict", f"v{i}", f"V{i}", "Text.") for i in range(4)]
    outcomes += [Outcome("steps", f"s{i}", f"S{i}", "Text.") for i in range(10)]
    made = []
    for i in range(rules):
        outcome = rng.choice(outcomes[:4]) if rng.random() < 0.6 else rng.choice(outcomes[4:])
        tests = {}
        for question in rng.sample(asked, rng.randint(fewest, min(most, len(asked)))):
            keys = question.choice_keys
            tests[question.key] = rng.sample(keys, rng.randint(1, len(keys) - 1))
        made.append(
            Rule(
                f"r{i}",
                outcome.table,
                outcome.key,
                conjunction(tests),
                f"Reason {i}.",
                ("act",),
                priority=rng.randint(0, 3) if first else 0,
            )
        )
    hit_policies = dict(engine.DEFAULT_HIT_POLICIES)
    if first:
        hit_policies[engine.VERDICT] = HitPolicy.FIRST
    return Version(
        "synthetic",
        f"{rules}x{questions}",
        tuple(asked),
        tuple(outcomes),
        tuple(made),
        (Clause("act", "The act.", "https://example.com/act", "Act", "1"),),
        hit_policies,
    )


def count(findings: list[analysis.Finding]) -> str:
    errors = sum(1 for f in findings if f.severity == analysis.ERROR)
    return f"{errors}/{len(findings) - errors}"


def main() -> None:
    print(f"{'policy@version':28} {'answer sets':>12} {'check s':>8} {'errors/warnings':>16}")
    for path in seed_files():
        document = read_document(path)
        for doc_version in document.versions:
            version = to_engine(document.slug, doc_version)
            seconds, findings = best_time(version)
            size = sum(analysis.cube_size(c) for c in analysis.reachable_region(version))
            label = f"{document.slug}@{doc_version.id}"
            print(f"{label:28} {size:>12} {seconds:>8.4f} {count(findings):>16}")
    print("target: < 0.2 s per seeded version\n")

    print(
        f"{'rules x questions':18} {'answer sets':>16}"
        + "".join(f"{family + ' s':>10}" for family in FAMILIES)
    )
    for rules, questions in SIZES:
        cells = []
        for family in FAMILIES:
            version = synthetic(rules, questions, family)
            seconds, _ = best_time(version)
            cells.append(f"{seconds:>10.3f}")
        # The families share their questions (same seed), so they share the answer sets too.
        size = sum(analysis.cube_size(c) for c in analysis.reachable_region(version))
        print(f"{f'{rules} x {questions}':18} {size:>16}" + "".join(cells))
    print("target: < 5 s for 100 x 20")


if __name__ == "__main__":
    main()
