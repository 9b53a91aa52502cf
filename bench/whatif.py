"""µs per "what would change this" call on the seeded policies, side by side with naive versions.

Run: .venv/bin/python bench/whatif.py [--rounds N] [--every K]. Prints a table; asserts nothing.
One call is `whatif.what_would_change(version, answers)` for one complete answer set. Columns:

- whatif: the real function (compiled `engine.evaluate`, rule filter on), mean µs per call over
  every reachable answer set, best of the rounds; then the median, 99th percentile and worst
  answer set (each the better of two calls).
- evals: `engine.evaluate` calls per `whatif` call, on average; 1 eval: µs for one of them.
- no filter, naive: every candidate evaluated (`prune=False`), with the compiled engine and
  with `engine.evaluate_naive`; these are slow, so they run on every K-th answer set, and the
  ratios compare them with `whatif` on that same sample.
The target is well under 1 ms per call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

import django

django.setup()

from policies import analysis, engine, whatif  # noqa: E402
from policies.loading import read_document, seed_files, to_engine  # noqa: E402

Call = Callable[[Mapping[str, str]], object]


def mean_µs(call: Call, answer_sets: Sequence[Mapping[str, str]], rounds: int) -> float:
    """Best of `rounds` passes over every answer set, in µs per call."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for answers in answer_sets:
            call(answers)
        best = min(best, time.perf_counter() - start)
    return best / len(answer_sets) * 1e6


def single_calls_µs(call: Call, answer_sets: Sequence[Mapping[str, str]]) -> list[float]:
    """µs for each answer set, the better of two calls (one call alone may catch a GC pause)."""
    times = []
    for answers in answer_sets:
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            call(answers)
            best = min(best, time.perf_counter() - start)
        times.append(best * 1e6)
    return sorted(times)


def evaluations_per_call(version: engine.Version, answer_sets) -> float:
    count = 0

    def counting(v: engine.Version, answers: Mapping[str, str]) -> engine.Decision:
        nonlocal count
        count += 1
        return engine.evaluate(v, answers)

    for answers in answer_sets:
        whatif.what_would_change(version, answers, evaluate=counting)
    return count / len(answer_sets)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--every", type=int, default=10, help="sample for the slow columns")
    options = parser.parse_args()
    print(
        f"{'policy@version':26} {'sets':>5} {'whatif µs':>10} {'median':>7} {'p99':>7} "
        f"{'worst':>7} {'evals':>6} {'1 eval':>7} {'no filter':>10} {'naive':>9} "
        f"{'naive/whatif':>13}"
    )
    for path in seed_files():
        document = read_document(path)
        for doc_version in document.versions:
            version = to_engine(document.slug, doc_version)
            sets = list(analysis.reachable_answer_sets(version))
            sample = sets[:: options.every]

            def fast(a: Mapping[str, str], v: engine.Version = version) -> object:
                return whatif.what_would_change(v, a)

            def unfiltered(a: Mapping[str, str], v: engine.Version = version) -> object:
                return whatif.what_would_change(v, a, prune=False)

            def naive(a: Mapping[str, str], v: engine.Version = version) -> object:
                return whatif.what_would_change(v, a, evaluate=engine.evaluate_naive, prune=False)

            fast(sets[0])  # builds the per-version lookups once, as the first page view would
            mean = mean_µs(fast, sets, options.rounds)
            calls = single_calls_µs(fast, sets)

            def evaluate(a: Mapping[str, str], v: engine.Version = version) -> object:
                return engine.evaluate(v, a)

            one = mean_µs(evaluate, sets, options.rounds)
            fast_sample = mean_µs(fast, sample, options.rounds)
            unfiltered_sample = mean_µs(unfiltered, sample, 1)
            naive_sample = mean_µs(naive, sample, 1)
            label = f"{document.slug}@{doc_version.id}"
            print(
                f"{label:26} {len(sets):>5} {mean:>10.0f} {statistics.median(calls):>7.0f} "
                f"{calls[int(len(calls) * 0.99)]:>7.0f} {calls[-1]:>7.0f} "
                f"{evaluations_per_call(version, sets):>6.1f} {one:>7.2f} "
                f"{unfiltered_sample:>10.0f} {naive_sample:>9.0f} "
                f"{naive_sample / fast_sample:>12.1f}x"
            )
    print(
        f"µs per call; no filter and naive on every {options.every}th answer set, "
        "naive/whatif on that sample; target: whatif well under 1000 µs"
    )


if __name__ == "__main__":
    main()
