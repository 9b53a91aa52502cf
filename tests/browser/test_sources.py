"""Where each quote stands, in a real browser: a saved result of the first version (later
statements, a reference, reviewed drift) and the stored copies its links lead to, each page
checked by `checker.check` (axe-core, CSP, bytes, 320 px) with JavaScript on and off."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from policies.models import PolicyVersion
from wizard.services import result_create

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("seeded_live")]

SLUG = "claude-code"
BEDROCK = {"plan": "bedrock", "tool": "claude_code", "audience": "just_me", "phi": "no"}
PRO = {"plan": "pro", "tool": "claude_code", "audience": "just_me", "phi": "no"}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_saved_result_shows_where_each_quote_stands_and_links_the_stored_copy(
    new_checker, javascript
):
    first = PolicyVersion.objects.get(policy__slug=SLUG, effective_date=dt.date(2025, 8, 28))
    saved, _ = result_create(version=first, answers=PRO)
    page, checker = new_checker(javascript=javascript)

    page.goto(saved.get_absolute_url())
    expect(page.get_by_text("said later, on 2026-03-18").first).to_be_visible()
    expect(page.get_by_role("link", name="Anthropic Usage Policy").first).to_be_visible()
    checker.check(page, f"share, sources ({'js' if javascript else 'no js'})")

    page.get_by_role("link", name="Stored copy of “Authentication” as of 2026-03-18").first.click()
    page.wait_for_url("**/sources/claude-code/2025-08-28/auth-account-types/")
    expect(page.locator("mark").first).to_be_visible()
    checker.check(page, f"stored copy, quote highlighted ({'js' if javascript else 'no js'})")

    page.get_by_role("link", name="2026-08-22").click()
    page.wait_for_url("**/sources/authentication/2026-08-22/")
    checker.check(page, f"stored copy ({'js' if javascript else 'no js'})")


def test_a_result_of_a_version_whose_page_was_reworded_says_so(new_checker):
    second = PolicyVersion.objects.get(policy__slug=SLUG, effective_date=dt.date(2026, 2, 18))
    saved, _ = result_create(version=second, answers=BEDROCK)
    page, checker = new_checker()

    page.goto(saved.get_absolute_url())
    expect(
        page.get_by_text("the page was reworded on 2026-03-18 (reviewed: meaning unchanged)").first
    ).to_be_visible()
    checker.check(page, "share, reviewed drift")
