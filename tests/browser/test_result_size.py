"""The result pages' size: the hosted-sandbox result (the spec's worked example) at 1280 px and
printed on A4, measured in Chromium and printed in the test output."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("seeded_live")]

SLUG = "claude-code"
HOSTED_SANDBOX = {
    "plan": "console",
    "tool": "hosted_claude_code",
    "end_user_credentials": "users_api_keys",
    "binary": "unmodified",
    "phi": "no",
}
# Measured at main 302777b, before issue 14 (each quote repeated under every item citing it);
# the issue, filed earlier, measured 11,360 px and 9 pages.
HEIGHT_BEFORE_PX = 10660
PAGES_BEFORE = 8


def walk(page: Any, answers: dict[str, str]) -> None:
    page.goto(f"/{SLUG}/")
    page.get_by_role("button", name="Start now").click()
    for key, choice in answers.items():
        page.wait_for_url(re.compile(rf"/{SLUG}/questions/{key}/"))
        page.locator(f'input[name="{key}"][value="{choice}"]').check()
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(rf"/{SLUG}/check/$"))


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_the_hosted_sandbox_result_is_short_on_screen_and_on_paper(new_checker, capsys):
    page, checker = new_checker()
    page.set_viewport_size({"width": 1280, "height": 900})
    walk(page, HOSTED_SANDBOX)
    checker.skip()
    page.goto(f"/{SLUG}/result/")
    checker.check(page, "hosted sandbox result")
    page.set_viewport_size({"width": 1280, "height": 900})
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.emulate_media(media="print")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "hosted-sandbox-print.png"), full_page=True)
    pages = pdf_pages(page.pdf(format="A4"))
    page.emulate_media(media="screen")
    with capsys.disabled():
        print(
            f"\nhosted-sandbox result at 1280 px: {height} px (before: {HEIGHT_BEFORE_PX} px, "
            f"target < {HEIGHT_BEFORE_PX // 2} px); printed on A4: {pages} pages "
            f"(before: {PAGES_BEFORE}, target <= 4)"
        )
    assert height < HEIGHT_BEFORE_PX / 2
    assert pages <= 4


# The four questions the issue walked as a new user would.
FOUR_QUESTIONS = {
    "Max in OpenCode": {
        "plan": "max",
        "tool": "third_party_tool",
        "audience": "just_me",
        "phi": "no",
    },
    "hospital, web with PHI": {
        "plan": "enterprise",
        "tool": "claude_code",
        "audience": "my_organization",
        "phi": "yes",
        "baa": "yes",
        "zdr": "yes",
        "surface": "cloud",
    },
    "SaaS with Sign in with Claude": {
        "plan": "console",
        "tool": "own_app",
        "audience": "customers",
        "end_user_credentials": "users_claude_accounts",
        "phi": "no",
    },
    "hosted sandbox": HOSTED_SANDBOX,
}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("name", list(FOUR_QUESTIONS))
def test_the_four_questions_lead_with_what_to_do_and_quote_each_clause_once(
    new_checker, name, javascript
):
    page, checker = new_checker(javascript=javascript)
    walk(page, FOUR_QUESTIONS[name])
    checker.skip()
    page.get_by_role("link", name="See your result").click()
    page.wait_for_url(re.compile(rf"/{SLUG}/result/$"))
    checker.check(page, f"{name} result")

    action = page.locator("#action-line")
    assert action.is_visible() and action.inner_text().strip()
    quotes = page.locator(".source__quote").all_inner_texts()
    assert quotes and len(quotes) == len(set(quotes))
    assert page.locator(".citation__quote").count() == 0
    # No dead end: saving is one click away, and so are changing the answers and starting again.
    assert page.get_by_role("button", name="Save a link to this result").is_visible()
    assert page.get_by_role("link", name="Change your answers").is_visible()
    assert page.get_by_role("button", name="Start again").is_visible()
