"""The wizard in a real browser, with JavaScript (htmx) on and off.

Each page shown is checked by `checker.check` (tests/browser/conftest.py): axe-core, console
errors, CSP violations, foreign requests, bytes, layout shift, screenshots.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from policies.models import PolicyVersion
from tests.browser.conftest import SCREENSHOTS
from wizard.progress import STALE_STEP
from wizard.services import result_create

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("seeded_live")]

SLUG = "claude-code"
TITLE = "Using Claude Code and your Claude plan"

# Two paths through the seeded policy: a personal one (4 questions) and a product that hosts
# Claude Code and handles health data (8 questions).
PATH_A = [
    ("plan", "Claude Max (Max 5x or Max 20x)"),
    ("tool", "Claude Code used interactively"),
    ("audience", "Only me"),
    ("phi", "No"),
]
# The same path as choice ids, for a result saved directly.
PATH_A_ANSWERS = {"plan": "max", "tool": "claude_code", "audience": "just_me", "phi": "no"}
PATH_B = [
    ("plan", "Claude for Enterprise"),
    ("tool", "Your product or sandbox runs Claude Code for its users"),
    ("end_user_credentials", "Each user brings their own API key or cloud credential"),
    ("binary", "Yes, unmodified"),
    ("phi", "Yes"),
    ("baa", "Yes"),
    ("zdr", "Yes"),
    ("surface", "On your machines: CLI, IDE extension or desktop app in local mode"),
]


def question_path(key: str) -> str:
    return f"/{SLUG}/questions/{key}/"


def url_is(path: str) -> Any:
    return re.compile(re.escape(path) + r"(\?.*)?$")


def mark_document(page: Any) -> None:
    """A flag that survives htmx swaps but not a full page load."""
    page.evaluate("() => { window.__sameDocument = true; }")


def assert_same_document(page: Any) -> None:
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"


def expect_focus_on(page: Any, selector: str) -> None:
    """Focus moves once htmx has settled the swap, just after the URL changes."""
    expect(page.locator(selector)).to_be_focused()


def answer(page: Any, label: str) -> None:
    page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Continue").click()


def start(page: Any, checker: Any) -> None:
    """From the policy start page (already checked elsewhere) to the first question."""
    page.goto(f"/{SLUG}/")
    checker.skip()
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url(url_is(question_path("plan")))


def test_with_javascript_each_answer_swaps_in_the_next_question(new_checker):
    page, checker = new_checker()

    page.goto("/")
    checker.check(page, "start")
    page.get_by_role("link", name=TITLE).click()
    page.wait_for_url(url_is(f"/{SLUG}/"))
    checker.check(page, "policy start")

    mark_document(page)
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url(url_is(question_path("plan")))
    expect(page.locator("h1")).to_have_text("How do you get access to Claude?")
    assert_same_document(page)
    expect_focus_on(page, "h1")
    assert page.title() == f"How do you get access to Claude? - {TITLE} - Eligibility wizard"
    expect(page.locator("#back-link")).to_have_attribute("href", f"/{SLUG}/")
    checker.check(page, "A1 plan", how="swap")

    # The error state: announced (role=alert, focused), linked to the first radio.
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect_focus_on(page, ".error-summary")
    assert page.title().startswith("Error: How do you get access to Claude?")
    assert page.url.endswith(question_path("plan"))
    checker.check(page, "A1 plan, error", how="swap", cold=False)
    page.locator(".error-summary a").click()
    assert page.evaluate("() => document.activeElement.id") == "plan-free"

    for index, (key, label) in enumerate(PATH_A):
        answer(page, label)
        following = PATH_A[index + 1][0] if index + 1 < len(PATH_A) else None
        if following is None:
            page.wait_for_url(url_is(f"/{SLUG}/check/"))
            expect(page.locator("h1")).to_have_text("Check your answers")
            checker.check(page, "A check answers", how="swap")
            break
        page.wait_for_url(url_is(question_path(following)))
        expect_focus_on(page, "h1")
        expect(page.locator("#back-link")).to_have_attribute("href", question_path(key))
        checker.check(page, f"A{index + 2} {following}", how="swap")
    assert_same_document(page)

    # Back and Forward walk the pushed URLs; each restore gets the page from the server.
    page.go_back()
    page.wait_for_url(url_is(question_path("phi")))
    expect(page.locator("h1")).to_have_text(
        "Will it handle protected health information (PHI) under HIPAA?"
    )
    expect(page.get_by_label("No", exact=True)).to_be_checked()
    page.go_back()
    page.wait_for_url(url_is(question_path("audience")))
    expect(page.get_by_label("Only me", exact=True)).to_be_checked()
    page.go_forward()
    page.wait_for_url(url_is(question_path("phi")))
    expect(page.locator("h1")).to_contain_text("protected health information")
    checker.check(page, "A4 phi, after Back and Forward", how="back")
    answer(page, "No")
    page.wait_for_url(url_is(f"/{SLUG}/check/"))

    # Change an answer from the check page: the change opens a question, then comes back.
    page.get_by_role(
        "link", name="Change your answer to “What will send requests to Claude?”"
    ).click()
    page.wait_for_url(url_is(question_path("tool") + "?change=1"))
    checker.check(page, "A2 tool, changing")
    answer(page, "Claude Code run by scripts or CI")
    page.wait_for_url(url_is(question_path("run_pattern") + "?change=1"))
    expect(page.locator("#back-link")).to_have_attribute("href", f"/{SLUG}/check/")
    checker.check(page, "A2b run_pattern, changing", how="swap")
    answer(page, "Personal scripts or CI jobs, a few runs a day")
    page.wait_for_url(url_is(f"/{SLUG}/check/"))
    expect(page.locator(".summary-list")).to_contain_text("Claude Code run by scripts or CI")
    expect(page.locator(".summary-list")).to_contain_text("Personal scripts or CI jobs")

    page.goto(f"/{SLUG}/result/")
    expect(page.locator(".panel__title")).to_be_visible()
    checker.check(page, "result")
    page.emulate_media(media="print")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "result-print.png"), full_page=True)
    page.emulate_media(media="screen")

    expect(page.locator("#action-line")).to_be_visible()
    page.get_by_role("button", name="Save a link to this result").click()
    page.wait_for_url(re.compile(r"/r/[^/]+/saved/$"))
    expect(page.get_by_role("heading", name="Your result is saved")).to_be_visible()
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    expect(page.get_by_role("button", name="Change your answers")).to_be_visible()
    checker.check(page, "saved")
    share_url = page.locator(".share-link").first.get_attribute("href")

    # Someone else opens the link.
    other, other_checker = new_checker()
    other.goto(share_url)
    expect(other.locator(".panel__title")).to_be_visible()
    expect(other.get_by_text("/revoke/")).to_have_count(0)
    expect(other.get_by_role("button", name="Check your own situation")).to_be_visible()
    other_checker.check(other, "share")


def test_with_javascript_a_long_path_is_accessible_at_every_question(new_checker):
    page, checker = new_checker()
    start(page, checker)
    checker.check(page, "B1 plan", how="swap")
    for index, (_key, label) in enumerate(PATH_B):
        answer(page, label)
        if index + 1 == len(PATH_B):
            page.wait_for_url(url_is(f"/{SLUG}/check/"))
            checker.check(page, "B check answers", how="swap")
        else:
            following = PATH_B[index + 1][0]
            page.wait_for_url(url_is(question_path(following)))
            checker.check(page, f"B{index + 2} {following}", how="swap")
    assert len(page.locator(".summary-list__row").all()) == len(PATH_B)


def test_without_javascript_every_step_works_by_post_redirect_get(new_checker):
    page, checker = new_checker(javascript=False)

    page.goto(f"/{SLUG}/")
    checker.check(page, "policy start")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url(url_is(question_path("plan")))
    checker.check(page, "A1 plan")

    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert page.title().startswith("Error: ")
    checker.check(page, "A1 plan, error", cold=False)

    answer(page, PATH_A[0][1])
    page.wait_for_url(url_is(question_path("tool")))
    answer(page, PATH_A[1][1])
    page.wait_for_url(url_is(question_path("audience")))
    checker.check(page, "A3 audience")

    page.get_by_role("link", name="Back").click()
    page.wait_for_url(url_is(question_path("tool")))
    expect(page.get_by_label(PATH_A[1][1], exact=True)).to_be_checked()
    answer(page, PATH_A[1][1])
    page.wait_for_url(url_is(question_path("audience")))
    for _key, label in PATH_A[2:]:
        answer(page, label)
    page.wait_for_url(url_is(f"/{SLUG}/check/"))
    checker.check(page, "A check answers")

    page.get_by_role(
        "link", name="Change your answer to “Who will use it under this plan or key?”"
    ).click()
    page.wait_for_url(url_is(question_path("audience") + "?change=1"))
    answer(page, "People in my organization")
    page.wait_for_url(url_is(f"/{SLUG}/check/"))
    expect(page.locator(".summary-list")).to_contain_text("People in my organization")

    page.get_by_role("link", name="See your result").click()
    page.wait_for_url(url_is(f"/{SLUG}/result/"))
    expect(page.locator("#action-line")).to_be_visible()
    checker.check(page, "result")
    page.get_by_role("button", name="Save a link to this result").click()
    page.wait_for_url(re.compile(r"/r/[^/]+/saved/$"))
    expect(page.locator("button[data-copy]")).to_be_hidden()  # no JavaScript: the plain link
    checker.check(page, "saved")
    page.goto(page.locator(".share-link").first.get_attribute("href"))
    checker.check(page, "share")


def test_saved_results_recheck_revoke_and_gone_pages(new_checker):
    old = PolicyVersion.objects.get(policy__slug=SLUG, effective_date=dt.date(2025, 8, 28))
    saved, secret = result_create(version=old, answers=PATH_A_ANSWERS)
    page, checker = new_checker()

    page.goto(saved.get_absolute_url())
    expect(page.get_by_text("The policy changed on")).to_be_visible()
    checker.check(page, "share, policy changed")
    # On paper: the stale notice with the newer version's date, the link and the print date.
    page.emulate_media(media="print")
    expect(page.get_by_text("The policy changed on")).to_be_visible()
    expect(page.locator("#print-record")).to_be_visible()
    expect(page.locator("#print-record")).to_contain_text(saved.get_absolute_url())
    expect(page.get_by_role("link", name="Re-check against the current version")).to_be_hidden()
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Re-check against the current version").click()
    page.wait_for_url(re.compile(r"/recheck/$"))
    checker.check(page, "recheck")

    page.goto(f"/r/{saved.token}/revoke/{secret}/")
    checker.check(page, "revoke, confirm")
    page.get_by_role("button", name="Revoke the link").click()
    expect(page.get_by_role("heading", name="The result link is revoked")).to_be_visible()
    expect(page.get_by_role("link", name="Check your situation again")).to_be_visible()
    checker.check(page, "revoke, done", cold=False)

    page.goto(saved.get_absolute_url())
    expect(page.get_by_role("heading", name="This result is no longer available")).to_be_visible()
    checker.check(page, "gone (410)", allowed_errors=("410",))
    page.get_by_role("link", name="Check your situation").click()
    page.wait_for_url(url_is(f"/{SLUG}/"))


def test_with_javascript_bad_input_ends_on_a_clear_page(new_checker):
    page, checker = new_checker()
    start(page, checker)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    # A double-click sends one answer.
    page.get_by_label(PATH_A[0][1], exact=True).check()
    page.get_by_role("button", name="Continue").dblclick()
    page.wait_for_url(url_is(question_path("tool")))
    checker.check(page, "double-click, next question", how="swap")
    assert len(posts) == 1, posts
    answer(page, PATH_A[1][1])
    page.wait_for_url(url_is(question_path("audience")))

    # A stale tab: another tab changes an earlier answer so that this question no longer applies.
    other = checker.watch(page.context.new_page(), measure=False)
    other.goto(question_path("tool"))
    answer(other, "Your product or sandbox runs Claude Code for its users")
    other.wait_for_url(url_is(question_path("end_user_credentials")))
    other.close()
    mark_document(page)
    answer(page, "Only me")
    page.wait_for_url(url_is(question_path("end_user_credentials")))
    assert_same_document(page)
    expect(page.locator(".notification")).to_contain_text(STALE_STEP)
    checker.check(page, "stale step (htmx), message", how="swap")
    page.goto(question_path("audience"))  # no longer on the path: it moves on
    page.wait_for_url(url_is(question_path("end_user_credentials")))

    # A POST without the CSRF token gets the friendly page in place of the body.
    page.evaluate("() => document.querySelector('[name=csrfmiddlewaretoken]').remove()")
    answer(page, "Each user brings their own API key or cloud credential")
    expect(page.get_by_role("heading", name="Your form was not sent")).to_be_visible()
    assert page.title().startswith("Your form was not sent")
    checker.check(page, "csrf failure (htmx)", how="swap", cold=False, allowed_errors=("403",))
    page.get_by_role("link", name="Go back and try again").click()
    page.wait_for_url(url_is(question_path("end_user_credentials")))
    for radio in page.locator("input[type=radio]").all():
        expect(radio).not_to_be_checked()  # nothing was saved


def test_without_javascript_bad_input_ends_on_a_clear_page(new_checker):
    page, checker = new_checker(javascript=False)
    start(page, checker)
    answer(page, PATH_A[0][1])
    page.wait_for_url(url_is(question_path("tool")))
    answer(page, PATH_A[1][1])
    page.wait_for_url(url_is(question_path("audience")))

    other = checker.watch(page.context.new_page(), measure=False)
    other.goto(question_path("tool"))
    answer(other, "Your product or sandbox runs Claude Code for its users")
    other.wait_for_url(url_is(question_path("end_user_credentials")))
    other.close()
    answer(page, "Only me")
    page.wait_for_url(url_is(question_path("end_user_credentials")))
    expect(page.locator(".notification")).to_contain_text(STALE_STEP)
    checker.check(page, "stale step, message")

    # A double-click without script: both posts carry the same answer; one outcome.
    page.get_by_label("Each user brings their own API key or cloud credential", exact=True).check()
    page.get_by_role("button", name="Continue").dblclick()
    page.wait_for_url(url_is(question_path("binary")))
    expect(page.locator("h1")).to_have_text(
        "Will your product run Claude Code exactly as Anthropic publishes it?"
    )

    # Cookies cleared while the page was open: the form's token no longer matches.
    page.context.clear_cookies()
    answer(page, "Yes, unmodified")
    expect(page.get_by_role("heading", name="Your form was not sent")).to_be_visible()
    checker.check(page, "csrf failure", cold=False, allowed_errors=("403",))


@pytest.mark.parametrize("javascript", [True, False])
def test_the_public_history_pages_are_accessible(new_checker, javascript):
    page, checker = new_checker(javascript=javascript)

    page.goto(f"/{SLUG}/versions/")
    expect(page.get_by_role("heading", name="Versions of this policy")).to_be_visible()
    checker.check(page, "versions")
    page.get_by_role("link", name="Version 2026-08-22").click()
    page.wait_for_url(url_is(f"/{SLUG}/versions/2026-08-22/"))
    expect(page.get_by_role("heading", name="The rules")).to_be_visible()
    checker.check(page, "version page")
    page.get_by_role("link", name="Compare with version 2026-04-04").click()
    page.wait_for_url(re.compile(rf"/{SLUG}/versions/compare/\?from=2026-04-04&to=2026-08-22$"))
    expect(page.get_by_text("get another result")).to_be_visible()
    checker.check(page, "compare versions")
