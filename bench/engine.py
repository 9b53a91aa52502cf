"""µs per evaluation of the seeded policies: compiled engine vs the naive interpreter, side by side.

Run: make bench  (or .venv/bin/python bench/engine.py). Prints a table; asserts nothing. The
target (issue 3) is compiled <= 5 µs per evaluation on the project's machine.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

import django

django.setup()

from policies import analysis, engine  # noqa: E402
from policies.loading import read_document, seed_files, to_engine  # noqa: E402

ROUNDS = 5


def per_evaluation(evaluate, version, answer_sets) -> float:
    """Best of ROUNDS passes over every answer set, in µs per evaluation."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for answers in answer_sets:
            evaluate(version, answers)
        best = min(best, time.perf_counter() - start)
    return best / len(answer_sets) * 1e6


def without_memo(evaluate):
    """The compiled engine with its per-version decision memo turned off (a cold cache)."""

    def cold(version, answers):
        return evaluate(version, answers)

    def run(version, answer_sets):
        limit, engine.MEMO_LIMIT = engine.MEMO_LIMIT, 0
        version._compiled.assembled.clear()
        try:
            return per_evaluation(cold, version, answer_sets)
        finally:
            engine.MEMO_LIMIT = limit

    return run


def main() -> None:
    print(
        f"{'policy@version':28} {'answer sets':>11} {'compiled µs':>12} {'no memo µs':>11} "
        f"{'naive µs':>9} {'speed-up':>9}"
    )
    for path in seed_files():
        document = read_document(path)
        for doc_version in document.versions:
            version = to_engine(document.slug, doc_version)
            answer_sets = list(analysis.reachable_answer_sets(version))
            cold = without_memo(engine.evaluate)(version, answer_sets)
            compiled = per_evaluation(engine.evaluate, version, answer_sets)
            naive = per_evaluation(engine.evaluate_naive, version, answer_sets)
            label = f"{document.slug}@{doc_version.id}"
            print(
                f"{label:28} {len(answer_sets):>11} {compiled:>12.2f} {cold:>11.2f} "
                f"{naive:>9.2f} {naive / compiled:>8.2f}x"
            )
    print("speed-up = naive / compiled; target: compiled <= 5 µs per evaluation")


if __name__ == "__main__":
    main()
