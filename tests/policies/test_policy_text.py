"""Admin-entered text is Markdown, rendered through nh3 with a tight allowlist; whatever an admin
types, no script, javascript: link, event-handler attribute or raw HTML reaches a page as markup.
"""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from policies.loading import SeedError, parse_text
from policies.models import Clause
from policies.templatetags.policy_text import render_policy_text
from tests.factories import (
    ChoiceFactory,
    ClauseFactory,
    OutcomeFactory,
    PolicyFactory,
    PolicyVersionFactory,
    QuestionFactory,
    RuleFactory,
    publish,
)

SCRIPT = '<script>alert("xss-script")</script>'
JS_LINK = "[click me](javascript:alert('xss-link'))"
RAW_JS_LINK = "<a href=\"javascript:alert('xss-raw-link')\">raw link</a>"
ON_ATTRIBUTE = "<img src=x onerror=\"alert('xss-img')\">"
RAW_HTML = "<b>bold-xss</b><iframe src=//evil.example></iframe>"
HOSTILE = " ".join([SCRIPT, JS_LINK, RAW_JS_LINK, ON_ATTRIBUTE, RAW_HTML])


def assert_inert(html: str) -> None:
    """None of the hostile payloads is markup in `html` (as escaped text they may appear)."""
    lowered = html.lower()
    assert '<script>alert("xss-script")' not in lowered
    assert not re.search(r"""<[a-z][^>]*\s(href|src)\s*=\s*["']?\s*javascript:""", lowered)
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", lowered)
    assert "<b>bold-xss" not in lowered
    assert "<iframe" not in lowered


def render(text):
    return str(render_policy_text(text))


# --- the filter ---------------------------------------------------------------------------------


def test_markdown_becomes_the_few_allowed_tags():
    text = "Some **strong** and *em* text with `code`.\n\n- one\n- two\n\nthen\n\n    pre"
    assert render(text) == (
        "<p>Some <strong>strong</strong> and <em>em</em> text with <code>code</code>.</p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<p>then</p>\n<pre><code>pre\n</code></pre>"
    )
    assert render("1. first\n2. second") == "<ol>\n<li>first</li>\n<li>second</li>\n</ol>"


def test_links_keep_http_https_and_mailto_with_rel_noopener_noreferrer():
    html = render("[a](https://example.com/a) [b](http://example.com/b) [c](mailto:x@example.com)")
    assert html.count('rel="noopener noreferrer"') == 3
    assert 'href="https://example.com/a"' in html
    assert 'href="http://example.com/b"' in html
    assert 'href="mailto:x@example.com"' in html


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
    ],
)
def test_links_to_other_schemes_lose_their_href(link):
    html = render(link)
    assert "href" not in html
    assert_inert(html)


@pytest.mark.parametrize("payload", [SCRIPT, RAW_JS_LINK, ON_ATTRIBUTE, RAW_HTML, HOSTILE])
def test_raw_html_is_shown_as_text_never_as_markup(payload):
    html = render(payload)
    assert_inert(html)
    assert "&lt;" in html  # escaped, so the admin sees what they typed


def test_headings_images_and_titles_are_not_allowed():
    html = render('# Title\n\n![alt](https://example.com/i.png) [t](https://example.com "tip")')
    assert "<h1" not in html and "<img" not in html and "title=" not in html


def test_the_filter_works_in_templates_and_empty_values_render_nothing():
    template = Template("{% load policy_text %}[{{ value|policy_text }}]")
    assert template.render(Context({"value": "**hi**"})) == "[<p><strong>hi</strong></p>]"
    assert template.render(Context({"value": None})) == "[]"
    assert_inert(template.render(Context({"value": HOSTILE})))


# --- whole pages --------------------------------------------------------------------------------


@pytest.fixture
def hostile_policy(db):
    """A published policy with the hostile text in every admin-entered field that pages show."""
    policy = PolicyFactory(slug="hostile", title=f"Title {SCRIPT}", summary=HOSTILE)
    version = PolicyVersionFactory(policy=policy, notes=HOSTILE)
    question = QuestionFactory(
        version=version, key="pet", text=f"Which pet? {SCRIPT}", help=HOSTILE
    )
    ChoiceFactory(question=question, key="cat", label=f"Cat {ON_ATTRIBUTE}", help=HOSTILE)
    ChoiceFactory(question=question, key="dog", label=f"Dog {RAW_HTML}", help=HOSTILE)
    clause = ClauseFactory(
        version=version, key="act", quote=HOSTILE, source=RAW_JS_LINK, source_version="1"
    )
    yes = OutcomeFactory(
        version=version, key="yes", title=f"Yes {SCRIPT}", text=HOSTILE, detail=HOSTILE
    )
    step = OutcomeFactory(
        version=version, table="steps", key="step", title=RAW_HTML, text=HOSTILE, detail=HOSTILE
    )
    auth = OutcomeFactory(
        version=version, table="auth_methods", key="key", title=SCRIPT, text=HOSTILE
    )
    terms = OutcomeFactory(version=version, table="terms", key="terms", title=SCRIPT, text=HOSTILE)
    for outcome in (yes, step, auth, terms):
        RuleFactory(
            version=version,
            key=f"r-{outcome.key}",
            outcome=outcome,
            reason=HOSTILE,
            clauses=[clause],
        )
    return publish(version)


def test_the_wizard_pages_show_hostile_admin_text_inert(client, hostile_policy):
    start = client.get(reverse("wizard:policy_start", args=["hostile"]))
    client.post(reverse("wizard:policy_start", args=["hostile"]))
    question = client.get(reverse("wizard:question", args=["hostile", "pet"]))
    client.post(reverse("wizard:question", args=["hostile", "pet"]), {"pet": "cat"})
    check = client.get(reverse("wizard:check", args=["hostile"]))
    result = client.get(reverse("wizard:result", args=["hostile"]))

    for response in (start, question, check, result):
        assert response.status_code == 200
        assert_inert(response.content.decode())
    assert "xss-script" in result.content.decode()  # the text is there, as text


def test_the_admin_pages_show_hostile_admin_text_inert(admin_client, hostile_policy):
    pages = [
        reverse("admin:policies_policyversion_change", args=[hostile_policy.pk]),
        reverse("admin:policies_policy_change", args=[hostile_policy.policy_id]),
        reverse("admin:policies_version_compare", args=[hostile_policy.pk]),
        reverse("admin:policies_version_flow", args=[hostile_policy.pk]),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode())


def test_a_clause_link_is_http_or_https_whoever_enters_it(admin_client, hostile_policy):
    with pytest.raises(SeedError, match="http"):
        parse_text(
            """
policy: {slug: pets, title: Pets}
versions: [{id: 2025-01-01}]
clauses: [{id: act, url: "javascript:alert(1)", quote: Q.}]
questions: [{id: pet, choices: [{id: cat}]}]
outcomes: {verdict: [{id: "yes", title: "Yes"}]}
rules: [{id: ok, then: {verdict: "yes"}, cite: [act]}]
"""
        )
    clause = Clause(version=hostile_policy, key="x", quote="Q", url="javascript:alert(1)")
    with pytest.raises(Exception) as excinfo:
        clause.full_clean()
    assert "url" in excinfo.value.message_dict
