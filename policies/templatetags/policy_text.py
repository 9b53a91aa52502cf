"""`{% load policy_text %}{{ value|policy_text }}`: admin-entered text as safe, plain HTML.

Admins write Markdown. Raw HTML in it is not passed through but shown as the text it is, and the
HTML that Markdown makes is cleaned by nh3 against a short allowlist: paragraphs, lists, strong,
em, code, pre and links to http, https and mailto addresses (opened with rel="noopener
noreferrer"). Anything else (script, style, images, event-handler attributes, javascript: links)
never reaches the page.
"""

from __future__ import annotations

import functools

import markdown
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "code", "pre", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer"


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(output_format="html")
    # Without these two, Markdown copies raw HTML (blocks and inline tags) into its output; with
    # them, the HTML is escaped and reads as text.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md


def render_policy_text(value: object) -> SafeString:
    """The Markdown in `value` as sanitised HTML; empty for None."""
    if value is None:
        return mark_safe("")
    return mark_safe(_render(str(value)))  # _render cleans it with nh3 against the allowlist


# Policy texts repeat on every page that shows them and the rendering is a pure function of the
# text, so each distinct text is converted once per process (bounded, so memory stays flat).
@functools.lru_cache(maxsize=4096)
def _render(text: str) -> str:
    html = _markdown().convert(text)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_only_allowed_attributes,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return cleaned  # cleaned by nh3 against the allowlist above


def _only_allowed_attributes(tag: str, attribute: str, value: str) -> str | None:
    # nh3 keeps `title` and `lang` on every tag unless told otherwise; `rel` is the one it adds.
    if tag == "a" and attribute == "rel":
        return LINK_REL
    return value if attribute in ALLOWED_ATTRIBUTES.get(tag, ()) else None


@register.filter(name="policy_text")
def policy_text(value: object) -> SafeString:
    return render_policy_text(value)
