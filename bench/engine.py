"""µs per evaluation of the seeded policies, side by side in one run:

- compiled: `engine.evaluate` (bitmasks ANDed during the walk, decisions memoized per match mask);
- no memo: the same with its memo turned off (a cold cache);
- if/else: a function generated from the version, one `if` per question and per rule, sharing
  only validation and the hit-policy step with the engine (the fastest plain-Python baseline);
- naive: `engine.evaluate_naive`, every rule checked one by one;
- zen: GoRules zen-engine (Rust) running the same decision tables through its engine-with-loader
  path, and "zen best": the same decision created once (`create_decision`) and then evaluated,
  its fastest path; both given the answers on the path (it has no notion of the question flow).

Run: make bench (or .venv/bin/python bench/engine.py). Prints; asserts nothing. Targets:
compiled <= 5 µs, compiled <= 2x the if/else function, and >= 10x faster than zen-engine.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

import django

django.setup()

from policies import analysis, engine  # noqa: E402
from policies.loading import read_document, seed_files, to_engine  # noqa: E402

ROUNDS = 5
Evaluate = Callable[[engine.Version, Mapping[str, str]], Any]


def per_evaluation(evaluate: Evaluate, version: engine.Version, answer_sets: list) -> float:
    """Best of ROUNDS passes over every answer set, in µs per evaluation."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for answers in answer_sets:
            evaluate(version, answers)
        best = min(best, time.perf_counter() - start)
    return best / len(answer_sets) * 1e6


def cold(version: engine.Version, answer_sets: list) -> float:
    """The compiled engine with its per-version decision memo turned off."""
    limit, engine.MEMO_LIMIT = engine.MEMO_LIMIT, 0
    version._compiled.assembled.clear()
    version._compiled.merged_items.clear()
    try:
        return per_evaluation(engine.evaluate, version, answer_sets)
    finally:
        engine.MEMO_LIMIT = limit


def generate_if_else(version: engine.Version) -> Evaluate:
    """Source code with one `if` per question (the flow) and per rule (the match mask)."""
    rules = version._compiled.rules
    constants: dict[str, Any] = {}
    lines = ["def walk_and_match(a):", "    get = a.get", "    known = {}"]

    def test(conj: engine.Conjunction, source: str) -> str:
        parts = []
        for key, choices in conj:
            name = f"C{len(constants)}"
            constants[name] = choices
            parts.append(f"{source}({key!r}) in {name}")
        return " and ".join(parts) or "True"

    for question in version.questions:
        shown = " or ".join(f"({test(c, 'known.get')})" for c in question.shown_when) or "True"
        lines.append(f"    if {shown}:")
        lines.append(f"        v = get({question.key!r})")
        lines.append("        if v is None:")
        lines.append("            return None")
        lines.append(f"        known[{question.key!r}] = v")
    lines.append("    m = 0")
    for i, rule in enumerate(rules):
        lines.append(f"    if {test(rule.conditions, 'known.get')}:")
        lines.append(f"        m |= {1 << i}")
    lines.append("    return known, m")
    namespace: dict[str, Any] = dict(constants)
    exec("\n".join(lines), namespace)  # the code is generated just above, from the version
    walk_and_match = namespace["walk_and_match"]

    def evaluate(version: engine.Version, answers: Mapping[str, str]) -> engine.Decision:
        if not engine._plainly_valid(version, answers):
            return engine.evaluate(version, answers)  # errors: not what is measured
        walked = walk_and_match(answers)
        if walked is None:
            return engine.evaluate(version, answers)
        known, matched = walked
        ignored = tuple(key for key in answers if key not in known)
        return engine._decide(version, known, ignored, matched, memo=True)

    return evaluate


def zen_evaluators(
    version: engine.Version,
) -> tuple[Callable[[Mapping[str, str]], Any], Callable[[Mapping[str, str]], Any]] | None:
    """The version's four tables as one JDM graph, evaluated by zen-engine two ways: through its
    engine with a loader (the documented path), and through a decision created once with
    `create_decision` and then evaluated (its fastest path)."""
    try:
        import zen
    except ImportError:
        return None
    keys = [q.key for q in version.questions]
    nodes: list[dict[str, Any]] = [
        {"id": "in", "type": "inputNode", "name": "answers", "position": {"x": 0, "y": 0}},
        {"id": "out", "type": "outputNode", "name": "decision", "position": {"x": 600, "y": 0}},
    ]
    edges = []
    rank = {(o.table, o.key): i for i, o in enumerate(version.outcomes)}
    for table in engine.TABLES:
        rules = sorted(
            (r for r in version.rules if r.table == table),
            key=lambda r: (rank[r.table, r.outcome], r.priority),
        )
        rows = []
        for rule in rules:
            row = {"_id": rule.key, "o": json.dumps(rule.outcome)}
            tests = dict(rule.conditions)
            for key in keys:
                row[key] = (
                    ", ".join(json.dumps(c) for c in sorted(tests[key])) if key in tests else ""
                )
            rows.append(row)
        # Rows are ordered strictest outcome first, so `first` is the `priority` hit policy.
        policy = "first" if table == engine.VERDICT else "collect"
        nodes.append(
            {
                "id": table,
                "type": "decisionTableNode",
                "name": table,
                "position": {"x": 300, "y": 0},
                "content": {
                    "hitPolicy": policy,
                    "inputs": [{"id": key, "name": key, "field": key} for key in keys],
                    "outputs": [
                        {"id": "o", "name": table, "field": table if policy == "first" else "id"}
                    ],
                    "rules": rows,
                    **({} if policy == "first" else {"outputPath": table}),
                },
            }
        )
        edges += [
            {"id": f"in-{table}", "type": "edge", "sourceId": "in", "targetId": table},
            {"id": f"{table}-out", "type": "edge", "sourceId": table, "targetId": "out"},
        ]
    content = json.dumps(
        {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}
    )
    zen_engine = zen.ZenEngine({"loader": lambda key: content})
    decision = zen.ZenEngine().create_decision(content)

    def through_loader(answers: Mapping[str, str]) -> Any:
        return zen_engine.evaluate("decision", dict(answers))["result"]

    def created_once(answers: Mapping[str, str]) -> Any:
        return decision.evaluate(dict(answers))["result"]

    return through_loader, created_once


def agrees_with_zen(version: engine.Version, zen_eval: Callable, answer_sets: list) -> bool:
    """Check the translation before timing it: same verdict and items on every answer set."""
    for answers in answer_sets:
        decision = engine.evaluate(version, answers)
        result = zen_eval(decision.answers)
        if result.get(engine.VERDICT) != decision.verdict.key:
            return False
        for table, items in decision.lists.items():
            zen_keys = {entry["id"] for entry in result.get(table, [])}
            if zen_keys != {item.key for item in items}:
                return False
    return True


def main() -> None:
    header = (
        f"{'policy@version':24} {'sets':>5} {'compiled':>9} {'no memo':>8} {'if/else':>8} "
        f"{'naive':>7} {'zen':>7} {'zen best':>8}   {'compiled/if-else':>16} {'zen/compiled':>12} "
        f"{'best/compiled':>13}"
    )
    print("µs per evaluation")
    print(header)
    for path in seed_files():
        document = read_document(path)
        for doc_version in document.versions:
            version = to_engine(document.slug, doc_version)
            answer_sets = list(analysis.reachable_answer_sets(version))
            cold_us = cold(version, answer_sets)
            if_else = generate_if_else(version)
            compiled_us = per_evaluation(engine.evaluate, version, answer_sets)
            if_else_us = per_evaluation(if_else, version, answer_sets)
            naive_us = per_evaluation(engine.evaluate_naive, version, answer_sets)
            zen_evals = zen_evaluators(version)
            zen_us = zen_best_us = float("nan")
            on_path = [engine.walk(version, a).answers for a in answer_sets]
            if zen_evals is not None:
                loader, created = zen_evals
                if agrees_with_zen(version, loader, answer_sets):
                    zen_us = per_evaluation(lambda v, a, run=loader: run(a), version, on_path)
                if agrees_with_zen(version, created, answer_sets):
                    zen_best_us = per_evaluation(lambda v, a, run=created: run(a), version, on_path)
            label = f"{document.slug}@{doc_version.id}"
            print(
                f"{label:24} {len(answer_sets):>5} {compiled_us:>9.2f} {cold_us:>8.2f} "
                f"{if_else_us:>8.2f} {naive_us:>7.2f} {zen_us:>7.1f} {zen_best_us:>8.1f}   "
                f"{compiled_us / if_else_us:>15.2f}x {zen_us / compiled_us:>11.1f}x "
                f"{zen_best_us / compiled_us:>12.1f}x"
            )
    print(
        "targets: compiled <= 5 µs; compiled/if-else <= 2; zen/compiled >= 10 (its loader path); "
        "best/compiled: against zen's fastest path"
    )


if __name__ == "__main__":
    main()
