"""Static checks of a policy version over the answer sets its question flow can reach.

Pure like the engine: it works on `engine.Version` and never touches the database.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import engine


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


def describe(answers: dict[str, str]) -> str:
    """A readable counterexample: "plan=team, tool=own_app, phi=no"."""
    return ", ".join(f"{key}={value}" for key, value in answers.items())


def gaps(version: engine.Version) -> list[dict[str, str]]:
    """Complete answer sets that get no verdict."""
    return [
        a for a in reachable_answer_sets(version) if engine.evaluate(version, a).verdict is None
    ]
