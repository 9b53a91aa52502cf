"""citations.check and citations.drift: each quote against the snapshot in force, later
statements against their own, drift over a version's time in effect. No database."""

import datetime as dt

from policies import citations, engine

D = dt.date
PAGE_V1 = "# Terms\n\nPets must be **licensed**. Cats may roam.\n"
PAGE_V2 = "# Terms\n\nPets must be registered. Cats may roam.\n"
PAGE_V3 = "# Terms\n\nNothing here any more.\n"


def version(*clauses, version_id="2025-02-01", cite=None):
    cited = tuple(c.key for c in clauses) if cite is None else cite
    return engine.Version(
        policy="pets",
        version=version_id,
        questions=(engine.Question("pet", "Which pet?", (engine.Choice("cat", "Cat"),)),),
        outcomes=(engine.Outcome("verdict", "yes", "Yes"),),
        rules=(engine.Rule("r", "verdict", "yes", (), "Fine.", cited),),
        clauses=clauses,
    )


def clause(key="licence", quote="Pets must be licensed.", on="2025-01-01", **fields):
    return engine.Clause(
        key, quote, "https://example.com/terms", version=on, document="terms", **fields
    )


def sources(*texts, kind="primary"):
    return {"terms": citations.Source.of("terms", kind, "Terms", list(texts))}


def codes(findings):
    return [(f.severity, f.code, f.subject) for f in findings]


def test_a_quote_in_the_snapshot_in_force_passes():
    found = citations.check(version(clause()), sources((D(2025, 1, 1), PAGE_V1)))

    assert codes(found) == []


def test_a_quote_the_copy_in_force_no_longer_holds_is_an_error_naming_the_closest_passage():
    texts = sources((D(2025, 1, 1), PAGE_V1), (D(2025, 1, 20), PAGE_V2))

    found = citations.check(version(clause()), texts)

    assert codes(found) == [("error", "not_in_force", "licence")]
    assert "2025-01-20" in found[0].message and "“Pets must be" in found[0].message


def test_a_clause_dated_after_its_version_must_be_a_later_statement():
    texts = sources((D(2025, 1, 1), PAGE_V3), (D(2025, 3, 1), PAGE_V1))

    unmarked = citations.check(version(clause(on="2025-03-01")), texts)
    marked = citations.check(
        version(
            clause(on="2025-03-01", later_statement=True, later_statement_reason="Said later.")
        ),
        texts,
    )

    assert codes(unmarked) == [("error", "dated_after_version", "licence")]
    assert codes(marked) == [("warning", "only_later_statements", "yes")]


def test_a_later_statement_is_checked_against_its_own_snapshot():
    texts = sources((D(2025, 3, 1), PAGE_V2))
    later = clause(on="2025-03-01", later_statement=True, later_statement_reason="Later.")

    found = citations.check(version(later), texts)

    assert ("error", "quote_not_found", "licence") in codes(found)


def test_a_later_statement_that_the_copy_in_force_already_says_is_a_warning():
    texts = sources((D(2025, 1, 1), PAGE_V1), (D(2025, 3, 1), PAGE_V1 + "More.\n"))
    later = clause(on="2025-03-01", later_statement=True)

    found = codes(citations.check(version(later), texts))

    assert ("warning", "later_statement_in_force", "licence") in found
    assert ("warning", "later_statement_reason", "licence") in found


def test_a_reference_has_no_quote_to_check_and_a_document_without_snapshots_is_a_warning():
    reference = clause(quote="The Terms", kind=engine.REFERENCE)

    assert codes(citations.check(version(reference), sources())) == []
    assert codes(citations.check(version(clause()), sources())) == [
        ("warning", "document_without_snapshot", "terms")
    ]


def test_a_snapshot_date_the_document_lacks_is_an_error():
    found = citations.check(version(clause(on="2024-12-31")), sources((D(2025, 1, 1), PAGE_V1)))

    assert codes(found) == [("error", "no_such_snapshot", "licence")]


def test_drift_names_the_first_snapshot_that_no_longer_holds_the_quote_before_the_next_version():
    texts = sources((D(2025, 1, 1), PAGE_V1), (D(2025, 2, 10), PAGE_V2), (D(2025, 3, 1), PAGE_V3))

    open_ended = citations.drift(version(clause()), texts, start=D(2025, 2, 1), end=None)
    bounded = citations.drift(version(clause()), texts, start=D(2025, 2, 1), end=D(2025, 2, 10))

    assert [(d.clause, d.status, d.since) for d in open_ended] == [
        ("licence", "changed", D(2025, 2, 10))
    ]
    assert open_ended[0].closest.startswith("Pets must be")
    assert 0.5 <= open_ended[0].similarity < 1
    assert bounded == []  # the next version's date is not part of this one's time


def test_drift_of_a_removed_sentence_is_missing_and_of_a_quote_never_in_force_not_in_force():
    texts = sources((D(2025, 1, 1), PAGE_V1), (D(2025, 2, 10), PAGE_V3))
    gone = citations.drift(version(clause()), texts, start=D(2025, 2, 1), end=None)
    never = citations.drift(
        version(clause(quote="Dogs bark.")), texts, start=D(2025, 2, 1), end=None
    )

    assert [(d.status, d.since) for d in gone] == [("missing", D(2025, 2, 10))]
    assert [(d.status, d.since) for d in never] == [("not_in_force", D(2025, 1, 1))]


def test_link_targets_and_emphasis_are_not_drift():
    reworded_markup = "# Terms\n\nPets must be [licensed](https://x.example/new). Cats may roam.\n"
    texts = sources((D(2025, 1, 1), PAGE_V1), (D(2025, 2, 10), reworded_markup))

    assert citations.drift(version(clause()), texts, start=D(2025, 2, 1), end=None) == []


def test_windows_end_at_the_next_version():
    assert citations.windows([D(2025, 3, 1), D(2025, 1, 1)]) == [
        (D(2025, 1, 1), D(2025, 3, 1)),
        (D(2025, 3, 1), None),
    ]
