"""The grid's cells and fixes, on engine values alone."""

from policies import analysis, engine, grid

PLAN = engine.Question(
    key="plan",
    text="Plan?",
    choices=tuple(engine.Choice(key=k, label=k) for k in ["free", "pro", "max", "team"]),
)


def test_a_cell_lists_the_accepted_choices_in_the_questions_order():
    assert grid.cell_text(PLAN, frozenset({"max", "free"})) == "free, max"


def test_a_cell_says_any_when_the_rule_does_not_test_the_question():
    assert grid.cell_text(PLAN, None) == "any"


def test_a_cell_reads_as_not_x_when_that_is_shorter():
    assert grid.cell_text(PLAN, frozenset({"pro", "max", "team"})) == "not free"


def test_a_cell_accepting_every_choice_says_answered():
    assert grid.cell_text(PLAN, frozenset(PLAN.choice_keys)) == "answered (any choice)"


def version():
    return engine.Version(
        policy="p",
        version="",
        questions=(PLAN,),
        outcomes=(
            engine.Outcome(engine.VERDICT, "no", "No"),
            engine.Outcome(engine.VERDICT, "yes", "Yes"),
        ),
        rules=(
            engine.Rule("b-yes", engine.VERDICT, "yes", (), "Fine.", ("c",), priority=20),
            engine.Rule(
                "a-no",
                engine.VERDICT,
                "no",
                engine.conjunction({"plan": ["free"]}),
                "Free.",
                (),
                priority=10,
            ),
            engine.Rule(
                "c-yes",
                engine.VERDICT,
                "yes",
                engine.conjunction({"plan": ["free"]}),
                "Again.",
                ("c",),
                priority=30,
            ),
        ),
        clauses=(engine.Clause("c", "Quote.", "https://example.com"),),
    )


def test_rows_come_in_priority_order_numbered_from_one():
    verdict = grid.grids(version(), [])[0]

    assert [(row.number, row.key) for row in verdict.rows] == [
        (1, "a-no"),
        (2, "b-yes"),
        (3, "c-yes"),
    ]
    assert verdict.hit_policy is engine.HitPolicy.PRIORITY
    assert [cell.text for cell in verdict.rows[0].cells] == ["free"]


def test_findings_land_on_their_rows_worded_as_fixes():
    v = version()
    verdict = grid.grids(v, analysis.check(v))[0]
    fixes = {row.key: [fix.text for fix in row.fixes] for row in verdict.rows}

    assert fixes["a-no"] == [
        "Verdict rule 1 (a-no) cites no clause. Edit verdict rule 1 (a-no) and tick the clauses "
        "it rests on."
    ]
    assert fixes["b-yes"] == []
    (shadowed,) = fixes["c-yes"]
    assert shadowed.startswith("Verdict rule 3 (c-yes) never decides: verdict rule 1 (a-no)")
    assert shadowed.endswith("Edit or delete verdict rule 3 (c-yes).")


def test_simulate_tells_fired_rows_from_those_that_lost():
    decision, fired, lost = grid.simulate_rows(version(), {"plan": "free"})

    assert decision.verdict is not None and decision.verdict.key == "no"
    assert fired == {"a-no"}
    assert lost == {"b-yes", "c-yes"}
