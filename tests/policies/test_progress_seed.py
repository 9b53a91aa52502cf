"""The progress shown on each question ("Question N of at most M"), over every path of every
seeded version: N counts up one at a time, M never grows, is never less than the questions the
path will really ask, and some answers reach it exactly."""

from __future__ import annotations

import pytest

from policies import analysis, engine
from tests.policies.test_seed import all_versions


@pytest.mark.parametrize("version", all_versions())
def test_the_progress_never_overstates_and_never_goes_up(version):
    lengths: dict[tuple[tuple[str, str], ...], set[int]] = {}
    paths = list(analysis.reachable_answer_sets(version))
    for answers in paths:
        keys = list(answers)
        for i in range(len(keys)):
            lengths.setdefault(tuple(answers.items())[:i], set()).add(len(keys))
    for answers in paths:
        keys = list(answers)
        previous_most = None
        for i, key in enumerate(keys):
            # The page for `key` as the person sees it on the way forward, and after Back.
            forward = engine.walk(version, dict(list(answers.items())[:i]))
            back = engine.walk(version, answers)
            number, most = engine.position(version, forward, key)
            assert engine.position(version, back, key) == (number, most)
            assert number == i + 1
            assert most >= len(keys), (answers, key, most)
            assert most == max(lengths[tuple(answers.items())[:i]]), (answers, key)
            assert previous_most is None or most <= previous_most, (answers, key)
            previous_most = most
