"""The CSV form of one decision table, without a database: cells read as the grid words them,
round trips, and the line and column of each error."""

import csv
import io

import pytest

from policies import engine, table_csv

PET = engine.Question(
    key="pet",
    text="Which pet?",
    choices=tuple(engine.Choice(key=k, label=k) for k in ("cat", "dog", "fish", "any")),
)
SIZE = engine.Question(
    key="size",
    text="How big?",
    choices=tuple(engine.Choice(key=k, label=k) for k in ("small", "large")),
)


def version(*rules: engine.Rule) -> engine.Version:
    return engine.Version(
        policy="pets",
        version="2025-01-01",
        questions=(PET, SIZE),
        outcomes=(
            engine.Outcome(engine.VERDICT, "no", "No", "No."),
            engine.Outcome(engine.VERDICT, "yes", "Yes", "Yes."),
        ),
        rules=rules,
        clauses=(
            engine.Clause("act", "Quote.", "https://example.com"),
            engine.Clause("law.2", "Quote.", "https://example.com"),
        ),
    )


def rule(key, conditions, *, outcome="no", reason="Because.", clauses=("act",), priority=0):
    return engine.Rule(
        key, engine.VERDICT, outcome, engine.conjunction(conditions), reason, clauses, priority
    )


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("", None),
        ("dog", ("dog",)),
        (" fish ,cat", ("cat", "fish")),
        ("not cat", ("dog", "fish", "any")),
        ("Not cat, dog", ("fish", "any")),
        ("answered (any choice)", ("cat", "dog", "fish", "any")),
        ("any", ("any",)),  # this question has a choice called "any"
    ],
)
def test_a_cell_reads_as_the_grid_words_it(text, accepted):
    assert table_csv.read_cell(PET, text) == accepted


def test_any_means_untested_where_no_choice_is_called_any():
    assert table_csv.read_cell(SIZE, "Any") is None
    assert table_csv.cell_text(SIZE, None) == "any"
    assert table_csv.cell_text(PET, None) == ""


def test_a_cell_naming_an_unknown_choice_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown choice 'hamster'; allowed: cat, dog, fish, any"):
        table_csv.read_cell(PET, "cat, hamster")


def test_export_then_parse_gives_back_every_rule():
    values = version(
        rule("a", {"pet": ["cat", "dog", "fish"]}, priority=-5),
        rule("b", {"pet": ["cat", "dog", "fish", "any"], "size": ["large"]}),
        rule("c", {}, outcome="yes", reason='Two lines,\nwith "quotes", and a comma.', clauses=()),
        rule("d", {"size": ["small"]}, clauses=("act", "law.2"), priority=10),
    )

    text = table_csv.export_table(values, engine.VERDICT, exported_from="pets 2025-01-01")
    rows = table_csv.parse_table(values, engine.VERDICT, text)

    assert [
        engine.Rule(
            r.key,
            engine.VERDICT,
            r.outcome,
            engine.conjunction(dict(r.conditions)),
            r.reason,
            r.clauses,
            r.priority,
        )
        for r in rows
    ] == list(values.rules)
    assert [r.line for r in rows] == [3, 4, 5, 6]  # the reason's line break is inside one row


def test_an_empty_row_is_skipped_but_counted():
    values = version(rule("a", {"pet": ["cat"]}), rule("b", {"pet": ["dog"]}))
    lines = list(
        csv.reader(io.StringIO(table_csv.export_table(values, "verdict", exported_from="")))
    )
    lines.insert(3, [""] * len(lines[1]))
    lines[4][2] = "parrot"
    out = io.StringIO()
    csv.writer(out).writerows(lines)

    with pytest.raises(table_csv.TableCsvError) as refused:
        table_csv.parse_table(values, engine.VERDICT, out.getvalue())

    assert list(refused.value.errors) == ["line 5, column pet"]


def test_a_file_for_another_table_or_hit_policy_is_refused():
    values = version(rule("a", {"pet": ["cat"]}))
    text = table_csv.export_table(values, engine.VERDICT, exported_from="")

    with pytest.raises(table_csv.TableCsvError) as other_table:
        table_csv.parse_table(values, engine.TERMS, text)
    with pytest.raises(table_csv.TableCsvError) as other_policy:
        table_csv.parse_table(values, engine.VERDICT, text.replace("priority", "first", 1))

    assert "line 1, column 2" in other_table.value.errors
    assert "an import cannot change" in other_policy.value.errors["line 1, column 4"]


def test_ragged_rows_are_a_file_error_not_a_crash():
    values = version(rule("a", {"pet": ["cat"]}))
    ragged = "table,verdict\nrule,priority,pet,size,outcome,reason,clauses\n"

    with pytest.raises(table_csv.TableCsvError) as refused:
        table_csv.parse_table(values, engine.VERDICT, ragged)

    assert "line 1" in refused.value.errors


FORMULA_LIKE = ('=HYPERLINK("https://evil.example","x")', "+1", "- a list item", "@SUM(A1)", "'=x")


def test_a_reason_a_spreadsheet_would_run_is_exported_as_text_and_read_back_exactly():
    reasons = (*FORMULA_LIKE, "'quoted on purpose", "Plain.")
    values = version(
        *(rule(f"r{i}", {"pet": ["cat"]}, reason=text) for i, text in enumerate(reasons))
    )

    text = table_csv.export_table(values, engine.VERDICT, exported_from="pets 2025-01-01")
    cells = [row[-2] for row in csv.reader(io.StringIO(text))][2:]
    rows = table_csv.parse_table(values, engine.VERDICT, text)

    assert all(cell.startswith("'") for cell in cells[: len(FORMULA_LIKE)])
    assert not any(cell[0] in table_csv.FORMULA_STARTS for cell in cells)
    assert cells[len(FORMULA_LIKE) :] == ["'quoted on purpose", "Plain."]
    assert [r.reason for r in rows] == list(reasons)
