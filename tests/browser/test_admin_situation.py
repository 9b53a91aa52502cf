"""A situation page in real Chromium, with JavaScript (htmx) on and off: in a draft of the seeded
version in effect whose verdict for one situation was turned to "allowed", the page shows the
sign-in rule of that situation flagged by the consistency check; the admin edits that rule right
there, and the finding goes away. axe-core finds nothing on the page, before and after."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from policies import catalog, services
from policies.models import Outcome, PolicyVersion, Rule
from tests.browser.test_admin_authoring import checked, log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("seeded_live")]

ANCHOR = "agent-sdk-for-others-subscription.verdict"
SIGN_IN = "agent-sdk-for-others-subscription.auth_methods"
STALE = "is unchanged but now fires where the verdict changed"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_admin_fixes_a_situations_sign_in_on_its_situation_page(
    new_checker: Any, django_user_model: Any, javascript: bool
) -> None:
    page, checker = new_checker(javascript=javascript)
    log_in(page, django_user_model)
    in_effect = PolicyVersion.objects.get(pk=catalog.version_in_effect("claude-code").pk)
    draft = services.version_copy(version=in_effect, by=None)
    allowed = Outcome.objects.get(version=draft, table="verdict", key="allowed")
    Rule.objects.filter(version=draft, key=ANCHOR).update(outcome=allowed)

    page.goto(f"/admin/policies/policyversion/{draft.pk}/rules/{ANCHOR}/situation/")
    sign_in = page.locator(f'[id="row-{SIGN_IN}"]')
    expect(sign_in).to_contain_text(STALE)
    expect(page.locator("#situation-findings")).to_contain_text(f"({SIGN_IN}) {STALE}")
    checked(page, checker, "situation flagged")

    sign_in.get_by_role("link", name="Edit sign-in rule").click()
    form = page.locator("form.rule-form")
    expect(form).to_be_visible()
    if javascript:  # swapped in place of the row, on the situation page itself
        assert page.url.endswith("/situation/")
        expect(page.locator(f'#situation [id="row-{SIGN_IN}"] form.rule-form')).to_have_count(1)
    else:  # the same form as a page of its own, which comes back to the situation
        assert f"/rules/{SIGN_IN}/?situation=" in page.url
    checked(page, checker, "situation row form")
    form.get_by_label("Reason").fill("Allowed now; an API key is still the one to use.")
    form.get_by_role("button", name="Save rule").click()

    sign_in = page.locator(f'[id="row-{SIGN_IN}"]')
    expect(sign_in).to_contain_text("Allowed now; an API key is still the one to use.")
    expect(sign_in).not_to_contain_text(STALE)
    # The sign-in rule's finding is gone; the terms and steps of the situation are still flagged.
    expect(page.locator("#situation-findings")).not_to_contain_text(f"({SIGN_IN}) {STALE}")
    expect(page.locator("#situation-findings")).to_contain_text(STALE)
    assert "/situation/" in page.url
    expect(page.locator("form.rule-form")).to_have_count(0)
    checked(page, checker, "situation fixed")
