"""An admin's walk in a real browser, with JavaScript (htmx) on and off: a draft of the seeded
version in effect, a rule changed in the grid (outcome, a condition, the reason), the findings
seen and fixed, a new clause whose mistyped quote the citation check finds and whose fix holds, a
rule added in the grid citing it, that table downloaded as CSV, changed and imported (and a
wrong file refused, naming the line and column), a publish on an earlier date warned about and
refused without the confirmation, then a publish with a later date. axe-core finds nothing on
any page; no console error, no CSP violation, no request to another origin. The admin's pages
are larger than the wizard's 60 KB budget (the seed's draft page is some 270 KB), so the byte
budget of `checker.check` does not apply; bench/admin_pages.py measures them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from policies import catalog
from policies.models import PolicyVersion, SourceDocument
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("seeded_live")]

SLUG = "claude-code"


def checked(page: Any, checker: Any, name: str) -> None:
    """axe, console, CSP and origins as `checker.check` does, and a screenshot to look at."""
    page.wait_for_load_state("load")
    if checker.javascript:
        # (not wait_for_function: its polling evaluates strings, which the CSP refuses)
        expect(page.locator(".htmx-request")).to_have_count(0)
    checker._assert_clean(name, ())
    if checker.javascript:
        checker._axe(page, name)
        # On these pages axe-core itself (evaluated, so without a source file) adds a style
        # element that the CSP refuses; the page's own violations were checked just above.
        checker.csp_violations[:] = [v for v in checker.csp_violations if " at :" not in v]
        checker.console_errors[:] = [
            e for e in checker.console_errors if not e.startswith("Applying inline style")
        ]
    SCREENSHOTS.mkdir(exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    suffix = "" if checker.javascript else "-nojs"
    page.screenshot(path=str(SCREENSHOTS / f"admin-{slug}{suffix}-1280.png"), full_page=False)


# A sentence of the stored copy of "Legal and compliance" as of 2026-08-22, the date of the
# version in effect, cited by no rule of the seed.
NEW_CLAUSE = "lc-standard-terms-any-platform"
NEW_QUOTE = (
    "Claude Code remains governed by Anthropic's standard terms (see the License and Commercial "
    "agreements sections above) regardless of the platform through which it is accessed."
)
NEW_RULE = "terms-existing-agreement-any-platform"
NEW_REASON = "Your existing commercial agreement governs Claude Code on whichever platform."
CSV_REASON = "Changed in a spreadsheet: your commercial agreement applies on every platform."


def add_clause(page: Any, checker: Any, draft: PolicyVersion) -> None:
    """From the draft's page, a clause of the draft quoting the legal page, one word wrong."""
    page.goto(f"/admin/policies/policyversion/{draft.pk}/change/")
    page.locator("#clauses-list summary").click()
    page.get_by_role("link", name="Add a clause to this draft").click()
    expect(page.locator("select[name=version]")).to_have_value(str(draft.pk))
    checked(page, checker, "clause add")
    page.locator("[name=key]").fill(NEW_CLAUSE)
    page.locator("[name=quote]").fill(NEW_QUOTE.replace("remains governed", "stays governed"))
    page.locator("[name=url]").fill("https://code.claude.com/docs/en/legal-and-compliance")
    page.locator("[name=source]").fill('Claude Code "Legal and compliance", Commercial agreements')
    page.locator("[name=source_version]").fill("2026-08-22")
    document = SourceDocument.objects.get(key="legal-and-compliance")
    page.locator("select[name=document]").select_option(str(document.pk))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("ul.messagelist")).to_contain_text(NEW_CLAUSE)
    page.goto(f"/admin/policies/policyversion/{draft.pk}/change/")


def log_in(page: Any, django_user_model: Any) -> None:
    django_user_model.objects.create_superuser("editor", "editor@example.com", "pw-for-tests")
    page.goto("/admin/login/?next=/admin/policies/policyversion/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_admin_drafts_edits_a_row_and_publishes_with_a_later_date(
    new_checker: Any, django_user_model: Any, javascript: bool, tmp_path: Path
) -> None:
    page, checker = new_checker(javascript=javascript)
    log_in(page, django_user_model)
    in_effect = catalog.version_in_effect(SLUG)
    checked(page, checker, "versions list")
    expect(page.locator("#result_list")).to_contain_text("Published · in effect")

    # A draft of the version in effect.
    page.goto(f"/admin/policies/policyversion/{in_effect.pk}/change/")
    checked(page, checker, "published version")
    page.get_by_role("link", name="New draft from this version").click()
    page.get_by_role("button", name=re.compile("Make the draft|Make a new draft|Copy")).click()
    draft = PolicyVersion.objects.filter(based_on_id=in_effect.pk).get()
    expect(page).to_have_url(re.compile(rf"/policyversion/{draft.pk}/change/"))
    checked(page, checker, "draft version")

    # The first verdict row: another outcome and one more condition, then look at the findings.
    first = page.locator("#table-verdict tbody.grid-row").first
    key = first.get_attribute("id").removeprefix("row-")
    first.get_by_role("link", name=re.compile("^Edit rule 1")).click()
    form = page.locator("form.rule-form")
    expect(form).to_be_visible()
    form.scroll_into_view_if_needed()
    checked(page, checker, "row form")
    original = form.locator("select[name=outcome]").input_value()
    form.locator("select[name=outcome]").select_option("allowed")
    form.get_by_label("Reason").fill("Changed in the grid by the browser test.")
    form.get_by_role("button", name="Save rule").click()
    row = page.locator(f'[id="row-{key}"]')
    expect(row).to_contain_text("Changed in the grid by the browser test.")
    expect(row).to_contain_text("allowed")
    expect(page.locator("#version-report")).to_be_visible()
    checked(page, checker, "draft after a save")

    # Fix it: the outcome back as it was (the reason stays changed).
    page.locator(f'[id="row-{key}"]').get_by_role("link", name=re.compile("^Edit rule 1")).click()
    form = page.locator("form.rule-form")
    form.locator("select[name=outcome]").select_option(original)
    form.get_by_role("button", name="Save rule").click()
    expect(page.locator(f'[id="row-{key}"]')).to_contain_text(original)
    expect(page.locator(f'[id="row-{key}"]')).to_contain_text(
        "Changed in the grid by the browser test."
    )
    checked(page, checker, "draft fixed")

    # A new clause, its quote first mistyped: the citation check finds it, and the fix holds.
    add_clause(page, checker, draft)
    about_clause = page.locator("#findings tr", has_text=NEW_CLAUSE)
    expect(about_clause.filter(has_text="quote_not_found")).to_have_count(1)
    checked(page, checker, "draft with a mistyped quote")
    page.locator("#clauses-list summary").click()
    page.locator("#clauses-list").get_by_role("link", name=NEW_CLAUSE, exact=True).click()
    page.locator("[name=quote]").fill(NEW_QUOTE)
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto(f"/admin/policies/policyversion/{draft.pk}/change/")
    expect(about_clause.filter(has_text="quote_not_found")).to_have_count(0)
    expect(about_clause.filter(has_text="uncited_clause")).to_have_count(1)

    # A rule in the grid citing it: the row shows the clause, and the clause is cited.
    page.locator("#table-terms").get_by_role("link", name="Add a terms rule").click()
    form = page.locator("form.rule-form")
    expect(form).to_be_visible()
    form.locator("[name=key]").fill(NEW_RULE)
    for plan in ("bedrock", "vertex", "foundry"):
        form.locator("#cell-plan").get_by_label(plan, exact=True).check()
    form.locator("select[name=outcome]").select_option("existing_commercial_agreement")
    form.get_by_label("Reason").fill(NEW_REASON)
    form.locator(".rule-clauses").get_by_label(NEW_CLAUSE, exact=True).check()
    form.scroll_into_view_if_needed()
    checked(page, checker, "new rule form")
    form.get_by_role("button", name="Save rule").click()
    new_row = page.locator(f'[id="row-{NEW_RULE}"]')
    expect(new_row).to_contain_text(NEW_REASON)
    expect(new_row.locator("td.clauses")).to_have_text(NEW_CLAUSE)
    expect(new_row).to_contain_text("bedrock, vertex, foundry")
    expect(page.locator("#clauses-list")).to_contain_text(NEW_CLAUSE)
    expect(about_clause).to_have_count(0)
    checked(page, checker, "draft with the new rule")
    cited = draft.rules.get(key=NEW_RULE).clauses.get()
    assert (cited.key, cited.quote) == (NEW_CLAUSE, NEW_QUOTE)

    # The terms table as CSV: downloaded, one reason changed, imported with the plain form.
    terms = page.locator("#table-terms")
    with page.expect_download() as download:
        terms.get_by_role("link", name="Download the terms table as CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert NEW_REASON in text
    changed = tmp_path / "terms.csv"
    changed.write_text(text.replace(NEW_REASON, CSV_REASON), encoding="utf-8")
    terms.locator("input[type=file]").set_input_files(str(changed))
    terms.get_by_role("button", name="Import").click()
    expect(page.locator("ul.messagelist")).to_contain_text("1 rule changed")
    expect(page.locator(f'[id="row-{NEW_RULE}"]')).to_contain_text(CSV_REASON)
    checked(page, checker, "draft after a CSV import")
    # A wrong cell: the import page names its line and column, and nothing is written.
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(text.replace("bedrock, vertex, foundry", "bedrock, azure"), encoding="utf-8")
    page.locator("#table-terms input[type=file]").set_input_files(str(wrong))
    page.locator("#table-terms").get_by_role("button", name="Import").click()
    expect(page.locator("#import-errors")).to_contain_text("column plan: unknown choice 'azure'")
    checked(page, checker, "CSV import refused")
    assert draft.rules.get(key=NEW_RULE).reason == CSV_REASON
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/policyversion/{draft.pk}/change/#table-terms$"))

    # Compare with the version in effect: the reason's old and new words, linked to the row.
    page.get_by_role("link", name="Compare", exact=True).click()
    expect(page.locator("#changes")).to_contain_text("Changed in the grid by the browser test.")
    checked(page, checker, "compare")
    page.goto(f"/admin/policies/policyversion/{draft.pk}/change/")

    # The row's situation: the rules of every table that decide along with it.
    page.locator(f'[id="row-{key}"]').get_by_role("link", name="Situation of rule 1").click()
    expect(page.locator("#content-main")).to_contain_text("decide along with it")
    checked(page, checker, "situation")
    page.goto(f"/admin/policies/policyversion/{draft.pk}/change/")

    # Simulate along the question flow, then save the answers as a scenario of the draft.
    for _ in range(12):
        groups = page.locator("#simulate fieldset")
        n = groups.count()
        groups.last.locator("input[type=radio]").first.check()
        page.locator("#simulate").get_by_role("button", name=re.compile("Next|Simulate")).click()
        # Wait for the answer to come back: the next question, or the form to save a scenario.
        page.locator(f"#simulate fieldset:nth-of-type({n + 1}), #scenario-name").first.wait_for()
        if page.locator("#scenario-name").count():
            break
    expect(page.locator("#simulate-decision")).to_contain_text("Verdict:")
    expect(page.locator("tbody.grid-row.fired").first).to_be_visible()
    checked(page, checker, "simulated")
    suffix = "" if javascript else "-nojs"
    page.locator("#simulate").screenshot(
        path=str(SCREENSHOTS / f"admin-simulate-panel{suffix}.png")
    )
    page.locator("tbody.grid-row.fired").first.screenshot(
        path=str(SCREENSHOTS / f"admin-fired-row{suffix}.png")
    )
    page.locator("#scenario-name").fill("Saved from the simulate panel")
    page.get_by_role("button", name="Save as scenario").click()
    expect(page.locator("#version-report")).to_contain_text("Saved from the simulate panel")
    checked(page, checker, "scenario saved")
    assert draft.scenarios.filter(name="Saved from the simulate panel").exists()

    # Publish on an earlier date than the version in effect: warned, refused without the tick.
    page.get_by_role("link", name="Publish…").click()
    checked(page, checker, "publish page")
    page.get_by_label("Effective date").fill("2026-01-01")
    page.get_by_label("What changed").fill("A reason reworded in the grid.")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#past-warning")).to_contain_text("This date goes into the past")
    checked(page, checker, "publish into the past warned")
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft

    # A later date publishes.
    page.get_by_label("Effective date").fill("2026-11-30")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Published")
    checked(page, checker, "published draft")
    published = PolicyVersion.objects.get(pk=draft.pk)
    assert published.status == "published" and published.version_id == "2026-11-30"
    rule = published.rules.get(key=key)
    assert rule.reason == "Changed in the grid by the browser test."
