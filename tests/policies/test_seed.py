"""The seeded policies, checked exhaustively over every reachable answer set of every version."""

import functools

import pytest

from policies import analysis, engine
from policies.loading import read_document, seed_files, to_engine


@functools.cache
def seeded_versions() -> dict[tuple[str, str], engine.Version]:
    versions = {}
    for path in seed_files():
        document = read_document(path)
        for version in document.versions:
            versions[document.slug, version.id] = to_engine(document.slug, version)
    return versions


def all_versions():
    return [pytest.param(v, id=f"{slug}@{vid}") for (slug, vid), v in seeded_versions().items()]


def test_there_is_a_seed_with_versions():
    assert ("claude-code", "2026-08-22") in seeded_versions()


@pytest.mark.parametrize("version", all_versions())
def test_every_reachable_answer_set_gets_exactly_one_verdict_and_cited_items(version):
    answer_sets = list(analysis.reachable_answer_sets(version))
    assert answer_sets
    for answers in answer_sets:
        decision = engine.evaluate(version, answers)
        where = analysis.describe(answers)
        assert decision.complete, where
        assert decision.verdict is not None, f"no verdict for {where}"
        assert decision.verdict.reasons, f"verdict without a reason for {where}"
        assert decision.auth_methods, f"no sign-in method for {where}"
        assert decision.terms, f"no terms for {where}"
        for item in (decision.verdict, *decision.auth_methods, *decision.terms, *decision.steps):
            assert item.clauses, f"{item.key} cites no clause for {where}"
            assert all(c.quote and c.url.startswith("https://") and c.version for c in item.clauses)


@pytest.mark.parametrize("version", all_versions())
def test_the_compiled_engine_agrees_with_the_naive_interpreter(version):
    for answers in analysis.reachable_answer_sets(version):
        assert engine.evaluate(version, answers) == engine.evaluate_naive(version, answers)


@pytest.mark.parametrize("version", all_versions())
def test_every_rule_cites_a_clause_and_every_list_rule_fires_somewhere(version):
    fired: set[str] = set()
    for answers in analysis.reachable_answer_sets(version):
        fired.update(engine.evaluate(version, answers).fired_rules)
    assert all(rule.clauses for rule in version.rules)
    # A list rule contributes whenever it matches, so one that never fires has a condition no
    # reachable answer set meets. (A verdict rule may also lose to a stricter one.)
    never = [r.key for r in version.rules if r.table != engine.VERDICT and r.key not in fired]
    assert never == []


@pytest.mark.parametrize("version", all_versions())
def test_the_static_checks_find_nothing_in_the_seed(version):
    assert [str(finding) for finding in analysis.check(version)] == []


def test_the_seed_uses_the_words_people_search_for():
    version = seeded_versions()["claude-code", "2026-08-22"]
    labels = " ".join(c.label for q in version.questions for c in q.choices)
    for words in ("Sign in with Claude", "OpenCode", "pi", "Zed", "Max 5x", "Max 20x"):
        assert words in labels
    credits = version.outcome("steps", "use_usage_credits_if_offered")
    assert "plan's own limits" in credits.text


def test_the_seed_marks_sensitive_choices_and_circumstances():
    version = seeded_versions()["claude-code", "2026-08-22"]
    phi = version.question("phi")
    assert {c.key for c in phi.choices if c.sensitive} == {"yes", "not_sure"}
    assert {q.key for q in version.questions if not q.actionable} == {"audience", "phi"}
    assert all(q.error for q in version.questions)
