"""A draft started from drift findings in a real browser, with JavaScript (htmx) on and off: the
drift page starts it, its page shows the checklist and the marked rows, confirming an item
clears it (who and when shown), and axe-core finds nothing on either page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from policies.models import PolicyVersion, ReviewItem
from tests.browser.test_admin_authoring import checked, log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("seeded_live")]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_admin_starts_a_draft_from_a_finding_and_confirms_its_clause(
    new_checker: Any, django_user_model: Any, javascript: bool
) -> None:
    page, checker = new_checker(javascript=javascript)
    log_in(page, django_user_model)
    policy_pk = PolicyVersion.objects.filter(policy__slug="claude-code").first().policy_id

    page.goto(f"/admin/policies/policy/{policy_pk}/drift/")
    checked(page, checker, "drift findings")
    page.get_by_role(
        "button", name="Start a draft from the 1 finding of claude-code 2026-02-18"
    ).click()

    checklist = page.locator("#review-items")
    expect(checklist).to_be_visible()
    draft = PolicyVersion.objects.get(policy_id=policy_pk, status="draft")
    items = ReviewItem.objects.filter(version=draft)
    total = items.count()
    expect(checklist.get_by_role("heading")).to_have_text(f"To review: {total} of {total} open")
    rules = [i.key for i in items if i.kind == "rule"]
    expect(page.locator("tbody.to-review")).to_have_count(len(rules))
    checked(page, checker, "draft checklist")

    page.get_by_role("button", name="Confirm clause auth-cloud-providers unchanged").click()

    expect(checklist.get_by_role("heading")).to_have_text(f"To review: {total - 1} of {total} open")
    expect(checklist.get_by_text("☑ Confirmed unchanged")).to_be_visible()
    expect(checklist.get_by_text("by editor on")).to_be_visible()
    checked(page, checker, "draft checklist confirmed")
    item = ReviewItem.objects.get(version=draft, kind="clause")
    assert (item.cleared, item.cleared_by.get_username()) == ("confirmed", "editor")
