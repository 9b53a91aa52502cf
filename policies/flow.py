"""The question flow of a version as an SVG picture, written as text (no Graphviz, no CDN).

Pure like the engine. Questions are boxes in the order they are asked, joined by arrows from
"Start" to "Result". The arrow into a question that is asked only sometimes carries its "shown
when" condition, and a dashed arrow marked "otherwise" passes it by. Every piece of text comes
from admins, so all of it is escaped, and characters XML cannot hold are dropped. The drawing
uses presentation attributes only (no `style`), which the site's content security policy allows.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from . import engine

WIDTH = 760
BOX_LEFT = 110  # room on the left for the "otherwise" arrows
BOX_WIDTH = 420
SPINE = BOX_LEFT + BOX_WIDTH // 2
LINE = 16  # height of a line of text
BOX_TEXT_CHARS = 56
LABEL_CHARS = 52
MAX_TEXT_LINES = 2
MIN_GAP = 44
TERMINAL_HEIGHT = 32
BYPASS_X = 20

# XML 1.0 allows tab, newline and carriage return but no other control characters.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def condition_words(version: engine.Version, shown_when: tuple[engine.Conjunction, ...]) -> str:
    """A question's "shown when" in words: "plan is pro or max and tool is agent_sdk; or ..."."""
    if not shown_when:
        return "always"
    order = {q.key: i for i, q in enumerate(version.questions)}
    alternatives = []
    for conj in shown_when:
        tests = []
        for key, choices in sorted(conj, key=lambda test: order.get(test[0], len(order))):
            question = version.question(key)
            known = question.choice_keys if question else tuple(sorted(choices))
            chosen = [c for c in known if c in choices]
            left_out = [c for c in known if c not in choices]
            if len(left_out) == 1 and len(chosen) > 2:
                tests.append(f"{key} is not {left_out[0]}")
            else:
                tests.append(f"{key} is {_either(chosen)}")
        alternatives.append(" and ".join(tests) if tests else "always")
    return "; or ".join(alternatives)


def flow_svg(version: engine.Version, *, title: str = "") -> str:
    """The SVG document (a string) for the version's question flow."""
    title = title or f"Question flow of {version.policy} {version.version}".strip()
    parts: list[str] = []
    y = 16
    parts.append(_terminal("Start", y))
    y += TERMINAL_HEIGHT
    for question in version.questions:
        label = (
            []
            if not question.shown_when
            else _wrap("only if " + condition_words(version, question.shown_when), LABEL_CHARS, 4)
        )
        gap = max(MIN_GAP, LINE * len(label) + 20)
        top = y + gap
        parts.append(_arrow(y, top))
        for i, line in enumerate(label):
            parts.append(_text(SPINE + 10, y + 18 + i * LINE, line, size=12, fill="#1d4f91"))
        lines = _box_lines(question)
        height = 14 + LINE * len(lines)
        if question.shown_when:
            parts.append(_bypass(y + gap // 2, top + height + MIN_GAP // 2))
        parts.append(
            f'<rect x="{BOX_LEFT}" y="{top}" width="{BOX_WIDTH}" height="{height}" rx="6" '
            f'fill="#ffffff" stroke="#0b0c0c" stroke-width="{2 if not question.shown_when else 1}"'
            f"{'' if not question.shown_when else ' stroke-dasharray=' + quoteattr('6 3')}/>"
        )
        for i, (line, weight) in enumerate(lines):
            parts.append(_text(BOX_LEFT + 12, top + 20 + i * LINE, line, size=13, weight=weight))
        y = top + height
    end = y + MIN_GAP
    parts.append(_arrow(y, end))
    parts.append(_terminal("Result", end))
    height = end + TERMINAL_HEIGHT + 16
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="flow-title">',
            f'<title id="flow-title">{_escape(title)}</title>',
            "<defs>",
            '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse">'
            '<path d="M 0 0 L 10 5 L 0 10 z" fill="#0b0c0c"/></marker>',
            "</defs>",
            '<g font-family="Helvetica, Arial, sans-serif">',
            *parts,
            "</g>",
            "</svg>",
            "",
        ]
    )


def message_svg(message: str) -> str:
    """A small SVG holding one message, for a version whose flow cannot be drawn."""
    lines = _wrap(message, 90, 6)
    height = 24 + LINE * len(lines)
    texts = [
        _text(12, 24 + i * LINE, line, size=13, fill="#d4351c") for i, line in enumerate(lines)
    ]
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img">',
            '<g font-family="Helvetica, Arial, sans-serif">',
            *texts,
            "</g>",
            "</svg>",
            "",
        ]
    )


def _box_lines(question: engine.Question) -> list[tuple[str, str]]:
    lines = [(question.key, "bold")]
    lines += [(line, "normal") for line in _wrap(question.text, BOX_TEXT_CHARS, MAX_TEXT_LINES)]
    choices = ", ".join(question.choice_keys) or "(no choices)"
    lines += [(line, "normal") for line in _wrap("choices: " + choices, BOX_TEXT_CHARS, 2)]
    return lines


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    lines = textwrap.wrap(" ".join(text.split()), width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def _either(words: Sequence[str]) -> str:
    if not words:
        return "(nothing)"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _escape(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def _text(
    x: int,
    y: int,
    text: str,
    *,
    size: int,
    weight: str = "normal",
    fill: str = "#0b0c0c",
    anchor: str = "start",
) -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{fill}" '
        f'text-anchor="{anchor}">{_escape(text)}</text>'
    )


def _terminal(label: str, top: int) -> str:
    return (
        f'<rect x="{SPINE - 60}" y="{top}" width="120" height="{TERMINAL_HEIGHT}" '
        f'rx="{TERMINAL_HEIGHT // 2}" fill="#f3f2f1" stroke="#0b0c0c"/>'
        + _text(SPINE, top + 21, label, size=13, weight="bold", anchor="middle")
    )


def _arrow(start: int, end: int) -> str:
    return (
        f'<line x1="{SPINE}" y1="{start}" x2="{SPINE}" y2="{end}" stroke="#0b0c0c" '
        'stroke-width="1.5" marker-end="url(#arrow)"/>'
    )


def _bypass(start: int, end: int) -> str:
    """A dashed arrow from the spine above a question, round its left side, back to the spine
    below it."""
    path = (
        f"M {SPINE} {start} L {BYPASS_X + 10} {start} Q {BYPASS_X} {start} {BYPASS_X} "
        f"{start + 10} L {BYPASS_X} {end - 10} Q {BYPASS_X} {end} {BYPASS_X + 10} {end} "
        f"L {SPINE - 2} {end}"
    )
    middle = (start + end) // 2
    return (
        f'<path d="{path}" fill="none" stroke="#505a5f" stroke-width="1.2" '
        'stroke-dasharray="4 3" marker-end="url(#arrow)"/>'
        + _text(BYPASS_X + 6, middle, "otherwise", size=11, fill="#505a5f")
    )
