"""Is a quote the page's own words? Find it in the page's text, or say how close the page comes.

Pure like the engine: standard library and rapidfuzz only, no Django, no I/O.

- `normalise(text)`: the form in which a quote and a page are compared. A quote is plain text
  and a page is Markdown (or HTML-ish Markdown from a help centre), so both drop what only the
  markup adds: link targets, images, tags, entities, backslash escapes, emphasis and code
  markers, heading, list and block-quote markers, table rules. Typographic quotes become
  straight ones and every dash a hyphen (a quote typed on a keyboard has neither), and
  whitespace collapses. Two things are kept on purpose. Case: a quote is verbatim, and "Team"
  the plan is not "team". Where one block ends and the next begins (paragraph, list item,
  heading, table row), as a line break: a quote that joins two bullets without "…" is not the
  page's words, so it is not found (table cells keep their "|" for the same reason).
- `prepare(text) -> Page`: a page normalised once, so a hundred quotes do not renormalise it.
- `find(quote, page) -> Match`: the quote's fragments (split on "…" or "...", the marks of
  words left out) found in order, each starting and ending on a word boundary. When they are not
  found: the closest passage of the page (in the page's own characters), its similarity, a word
  diff, and the reason.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

DiffOp = Literal["equal", "delete", "insert"]
Replacement = str | Callable[[re.Match[str]], str]

# Backslash escapes become private-use characters while links, tags and line markers are read,
# so that an escaped "\[" or "\#" is not taken for markup, and are then turned back.
_PRIVATE = 0xE000


def _hide_escape(m: re.Match[str]) -> str:
    return chr(_PRIVATE + ord(m.group(1)))


_UNHIDE: dict[int, str] = {_PRIVATE + c: chr(c) for c in range(0x21, 0x7F)}

# Where one block (a paragraph, a list item, a heading, a table row) ends and the next begins:
# kept as a line break, so that a quote which joins two bullets without "…" is not found.
_BREAK = "\ue100"

_URL = r"(?:<[^<>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+\"[^\"\n]*\")?"
_LINK_TEXT = r"[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*"


class _KeepGroup:
    """A replacement that keeps group 1 of the match and puts `tail` for the rest: its tracked
    form maps offsets inside the kept text exactly (a passage may start inside a link's text)."""

    def __init__(self, tail: str = "") -> None:
        self.tail = tail

    def __call__(self, m: re.Match[str]) -> str:
        return m.group(1) + self.tail


def _unescape_entity(m: re.Match[str]) -> str:
    return html.unescape(m.group(0))


def _line_start(m: re.Match[str]) -> str:
    """A heading, list item or table row starts a block; a block quote's ">" alone does not."""
    return _BREAK if m.group(1) else ""


def _whitespace(m: re.Match[str]) -> str:
    return "\n" if _BREAK in m.group(0) else " "


# The passes of `normalise`, in order. Each is a regex and what a match becomes; the tracked
# form of `normalise` (for mapping a passage back to the page's characters) runs the same list.
_PASSES: tuple[tuple[re.Pattern[str], Replacement], ...] = (
    # Invisible characters that would split a word: zero-width spaces and joiners, soft hyphens.
    (re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]"), ""),
    # CommonMark escapes: a backslash before ASCII punctuation only ("C:\Users" keeps its own).
    (re.compile(r"\\([!-/:-@\[-`{-~])"), _hide_escape),
    # Table rules and horizontal rules are layout; blank lines end a block.
    (
        re.compile(
            r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$"
            r"|^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$"
            r"|^[ \t>]*$",
            re.MULTILINE,
        ),
        _BREAK,
    ),
    # Comments, HTML and MDX tags (<Note>, <br />): a space, so "a<br>b" stays two words.
    (re.compile(r"<!--.*?-->|</?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>", re.DOTALL), " "),
    # Images say nothing a quote could cite, and their URLs carry expiring signatures.
    (re.compile(rf"!\[{_LINK_TEXT}\]\({_URL}\)"), " "),
    # Links keep their text: [text](url) and [text][ref].
    (re.compile(rf"\[({_LINK_TEXT})\](?:\({_URL}\)|\[[^\[\]\n]*\])"), _KeepGroup()),
    # A heading ends a block even when its text follows on the next line.
    (re.compile(r"^([ \t]*(?:>[ \t]?)*#{1,6}[ \t][^\n]*)$", re.MULTILINE), _KeepGroup(_BREAK)),
    # Heading, list, table-row and block-quote markers at the start of a line.
    (
        re.compile(
            r"^[ \t]*(?:>[ \t]?)*(#{1,6}[ \t]+|[*+-][ \t]+|\d{1,9}[.)][ \t]+|\|)?", re.MULTILINE
        ),
        _line_start,
    ),
    # Entities, with their semicolon ("&amp;"); a bare "&" in a URL-like text is left alone.
    (
        re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"),
        _unescape_entity,
    ),
)
# After the escapes are turned back, emphasis and code markers go, escaped or not: a quote is
# plain text and cannot tell a literal star (a footnote's "seats*") from markup, so neither side
# keeps one. An underscore goes only at a word's edge: CLAUDE_CODE_OAUTH_TOKEN keeps its own.
_MARKERS = re.compile(r"(?=[*`_])(?:\*++|`++|(?<!\w)_++|_++(?!\w))")
_LATE_PASSES: tuple[tuple[re.Pattern[str], Replacement], ...] = (
    (_MARKERS, ""),
    # Two hyphens typed for a dash: one, as a page's "—" becomes.
    (re.compile(r"(?<=\s)--(?=\s)"), "-"),
    # Runs of whitespace to one space, or to a line break where a block ends (a single space,
    # the common case, is left as it is: one call fewer per word).
    (re.compile(rf"[\s{_BREAK}]{{2,}}|[^\S ]|{_BREAK}"), _whitespace),
)

# One character for one, so offsets do not move: curly quotes to straight ones, every dash to a
# hyphen-minus (a quote typed with "-" must match a page's "—": which dash a page uses is
# typography, not wording), non-breaking and other fixed-width spaces to a space.
_PLAIN: dict[int, str] = {
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b"},
    **{ord(c): '"' for c in "\u201c\u201d\u201e\u201f"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"},
    **{ord(c): " " for c in "\u00a0\u2007\u202f"},
    **_UNHIDE,
}


def normalise(text: str) -> str:
    """`text` as it is compared: markup dropped, quotes, dashes and spaces made plain."""
    for pattern, replacement in _PASSES:
        text = pattern.sub(replacement, text)
    text = text.translate(_PLAIN)
    for pattern, replacement in _LATE_PASSES:
        text = pattern.sub(replacement, text)
    return text.strip()


# --- Mapping a passage of the normalised text back to the page --------------------------------


@dataclass(frozen=True)
class _Segments:
    """What one pass did, as the pieces of its output (those with an empty output left out):
    where each starts and ends in the output and in the input, and whether it was copied, so
    that an offset inside it carries over. Input between two pieces was deleted (markup): a
    passage that begins or ends next to it takes it in, so "**OAuth**" maps back whole."""

    out_starts: tuple[int, ...]
    out_ends: tuple[int, ...]
    in_starts: tuple[int, ...]
    in_ends: tuple[int, ...]
    copied: tuple[bool, ...]
    in_length: int

    def start(self, position: int) -> int:
        if not self.out_starts or position >= self.out_ends[-1]:
            return self.in_length
        i = bisect.bisect_right(self.out_starts, position) - 1
        if not self.copied[i]:
            return self.in_starts[i]
        if position == self.out_starts[i]:
            return self.in_ends[i - 1] if i else 0
        return self.in_starts[i] + position - self.out_starts[i]

    def end(self, position: int) -> int:
        if position <= 0 or not self.out_starts:
            return 0
        i = bisect.bisect_right(self.out_starts, position - 1) - 1
        if not self.copied[i]:
            return self.in_ends[i]
        if position == self.out_ends[i]:
            return self.in_starts[i + 1] if i + 1 < len(self.in_starts) else self.in_length
        return self.in_starts[i] + position - self.out_starts[i]


def _tracked_sub(
    pattern: re.Pattern[str], replacement: Replacement, text: str
) -> tuple[str, _Segments]:
    """`pattern.sub(replacement, text)`, remembering where each piece of the output came from."""
    out: list[str] = []
    out_starts: list[int] = []
    in_starts: list[int] = []
    in_ends: list[int] = []
    copied: list[bool] = []
    written = 0

    def piece(value: str, in_start: int, in_end: int, is_copy: bool) -> None:
        nonlocal written
        if value:
            out.append(value)
            out_starts.append(written)
            in_starts.append(in_start)
            in_ends.append(in_end)
            copied.append(is_copy)
            written += len(value)

    last = 0
    for m in pattern.finditer(text):
        piece(text[last : m.start()], last, m.start(), True)
        if isinstance(replacement, _KeepGroup):
            piece(m.group(1), m.start(1), m.end(1), True)
            piece(replacement.tail, m.end(1), m.end(), False)
        else:
            value = replacement if isinstance(replacement, str) else replacement(m)
            piece(value, m.start(), m.end(), False)
        last = m.end()
    piece(text[last:], last, len(text), True)
    out_ends = (*out_starts[1:], written)
    segments = _Segments(
        tuple(out_starts), out_ends, tuple(in_starts), tuple(in_ends), tuple(copied), len(text)
    )
    return "".join(out), segments


def _normalise_tracked(text: str) -> tuple[str, tuple[_Segments, ...]]:
    """`normalise(text)` and, per pass, how to map its offsets back (slow: used for misses)."""
    maps: list[_Segments] = []
    for pattern, replacement in _PASSES:
        text, segments = _tracked_sub(pattern, replacement, text)
        maps.append(segments)
    text = text.translate(_PLAIN)
    for pattern, replacement in _LATE_PASSES:
        text, segments = _tracked_sub(pattern, replacement, text)
        maps.append(segments)
    # The edges, as `str.strip` takes them off in `normalise`.
    stripped = text.strip()
    start = len(text) - len(text.lstrip())
    maps.append(
        _Segments((0,), (len(stripped),), (start,), (start + len(stripped),), (True,), len(text))
        if stripped
        else _Segments((), (), (), (), (), len(text))
    )
    return stripped, tuple(maps)


# --- Pages and matches -------------------------------------------------------------------------


class Page:
    """A page's text and its normalised form, made once. The map back to the page's own
    characters and the word index are made on the first miss only: found quotes never pay."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.normalised = normalise(text)

    @cached_property
    def _maps(self) -> tuple[_Segments, ...]:
        tracked, maps = _normalise_tracked(self.text)
        assert tracked == self.normalised, "the tracked and the fast normalisation disagree"
        return maps

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the page's text that a span of `normalised` comes from: markup inside it
        and at its edges included, whitespace at its edges not."""
        for segments in reversed(self._maps):
            start, end = segments.start(start), segments.end(end)
        text = self.text
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end

    def original(self, start: int, end: int) -> str:
        a, b = self.original_span(start, end)
        return self.text[a:b]

    @cached_property
    def word_starts(self) -> list[int]:
        return [m.start() for m in re.finditer(r"\S+", self.normalised)]

    @cached_property
    def words(self) -> list[str]:
        return self.normalised.split()

    @cached_property
    def vocabulary(self) -> dict[str, int]:
        """A number per distinct word: rapidfuzz compares lists of ints fastest."""
        numbers: dict[str, int] = {}
        for word in self.words:
            numbers.setdefault(word, len(numbers))
        return numbers

    @cached_property
    def word_ids(self) -> list[int]:
        return [self.vocabulary[word] for word in self.words]


@lru_cache(maxsize=64)
def prepare(text: str) -> Page:
    """The page for `text`, kept for the next call with the same text (pages are checked
    against many quotes in a row)."""
    return Page(text)


@dataclass(frozen=True)
class Match:
    """The outcome of `find`.

    `spans` are the found fragments, as offsets into `Page.normalised` (`Page.original_span`
    maps them to the page's text). When not found, `fragment` is the number (from 1) of the first
    fragment that could not be placed, `closest` the page's passage most like it (in the page's
    own characters), `similarity` how alike they are by words (1 - words replaced, added or
    dropped / the longer side's words), and `diff` the words that turn the fragment into the
    passage: ("equal" | "delete" | "insert", words), "delete" being the quote's words that the
    page lacks.
    """

    found: bool
    spans: tuple[tuple[int, int], ...] = ()
    fragment: int | None = None
    closest: str = ""
    similarity: float = 0.0
    diff: tuple[tuple[DiffOp, str], ...] = ()
    reason: str = ""


# "…", "..." and their bracketed forms mark words left out.
_ELISION = re.compile(r"\[?(?:…|\.\.\.)\]?")


def fragments(quote: str) -> list[str]:
    """The quote's fragments between elision marks, normalised, empty ones dropped."""
    return [f for f in (part.strip() for part in _ELISION.split(normalise(quote))) if f]


def _bounded(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] starts and ends on word boundaries (a fragment may not cut a
    word: "the key owner" is not found in "the key owners")."""
    if start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        return False
    return not (end < len(text) and text[end].isalnum() and text[end - 1].isalnum())


def _locate(fragment: str, text: str, start: int) -> int:
    """The first offset at or after `start` where `fragment` stands as whole words, or -1."""
    at = text.find(fragment, start)
    while at != -1 and not _bounded(text, at, at + len(fragment)):
        at = text.find(fragment, at + 1)
    return at


def find(quote: str, page: str | Page) -> Match:
    """Find `quote` in `page`: every fragment, in order, as whole words of the normalised text.

    An empty quote (or one of elision marks only) is not found: it cites nothing."""
    if isinstance(page, str):
        page = prepare(page)
    parts = fragments(quote)
    if not parts:
        return Match(found=False, reason="the quote is empty")
    text = page.normalised
    spans: list[tuple[int, int]] = []
    position = 0
    for number, part in enumerate(parts, start=1):
        at = _locate(part, text, position)
        if at == -1:
            return _miss(page, part, number, len(parts), position, text)
        spans.append((at, at + len(part)))
        position = at + len(part)
    return Match(found=True, spans=tuple(spans), similarity=1.0)


def _miss(page: Page, part: str, number: int, count: int, after: int, text: str) -> Match:
    """The closest passage to the fragment that failed, searched where it should have been
    (after the fragment before it), and why it failed."""
    label = "the quote" if count == 1 else f"fragment {number} of {count}"
    if count > 1 and _locate(part, text, 0) != -1:
        reason = f"{label} is in the page only before fragment {number - 1}: out of order"
    elif _locate(part, text.replace("\n", " "), after) != -1:
        reason = (
            f"{label} runs across two paragraphs, list items or table cells; "
            "mark the words between them with …"
        )
    elif count > 1:
        reason = f"{label} is not in the page: «{part}»"
    else:
        reason = "the quote is not in the page"
    start, end, similarity = _closest(page, part, after)
    if end <= start:
        return Match(found=False, fragment=number, reason=reason)
    return Match(
        found=False,
        fragment=number,
        closest=page.original(start, end),
        similarity=similarity,
        diff=word_diff(part.split(), text[start:end].split()),
        reason=reason,
    )


def _closest(page: Page, part: str, after: int) -> tuple[int, int, float]:
    """(start, end, similarity) of the passage of `page.normalised[after:]` most like `part`.

    rapidfuzz aligns by characters over the whole region (fast, in C); the alignment is then
    widened to whole words and its edges moved a few words either way, keeping the span whose
    words are most like the fragment's."""
    text = page.normalised
    region = text[after:]
    if not region.strip():
        return 0, 0, 0.0
    alignment = fuzz.partial_ratio_alignment(part, region)
    if alignment is None:
        return 0, 0, 0.0
    aligned_start = after + alignment.dest_start
    aligned_end = after + max(alignment.dest_end, alignment.dest_start + 1)
    starts = page.word_starts
    first = max(bisect.bisect_right(starts, aligned_start) - 1, 0)
    last = max(bisect.bisect_left(starts, aligned_end), first + 1)  # words [first, last)
    lowest = bisect.bisect_left(starts, after)
    ids = page.word_ids
    vocabulary = page.vocabulary
    unknown: dict[str, int] = {}
    quote_ids = [
        vocabulary[word] if word in vocabulary else unknown.setdefault(word, -1 - len(unknown))
        for word in part.split()
    ]
    slack = max(2, len(quote_ids) // 5)
    count = len(starts)

    def score(s: int, e: int) -> float:
        return Levenshtein.normalized_similarity(quote_ids, ids[s:e])

    # Each edge in turn, twice: a few dozen comparisons instead of every pair of edges. The
    # span stays within the region and holds at least one word.
    s = min(max(first, lowest), count - 1)
    e = min(max(last, s + 1), count)
    for _ in range(2):
        s_range = range(max(lowest, first - slack), min(first + slack, e - 1) + 1)
        s = max(s_range, key=lambda i: (score(i, e), -i), default=s)
        e_range = range(max(s + 1, last - slack), min(last + slack, count) + 1)
        e = max(e_range, key=lambda j: (score(s, j), -j), default=e)
    best = score(s, e)
    words = page.words
    return starts[s], starts[e - 1] + len(words[e - 1]), best


def word_diff(
    quote_words: Sequence[str], page_words: Sequence[str]
) -> tuple[tuple[DiffOp, str], ...]:
    """The word-level edits from the quote's words to the page's: runs of equal words, and
    between them the words of the quote the page lacks ("delete") followed by the page's words
    that the quote lacks ("insert")."""
    diff: list[tuple[DiffOp, str]] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            diff.append(("delete", " ".join(deleted)))
        if inserted:
            diff.append(("insert", " ".join(inserted)))
        deleted.clear()
        inserted.clear()

    for op in Levenshtein.opcodes(list(quote_words), list(page_words)):
        if op.tag == "equal":
            flush()
            diff.append(("equal", " ".join(quote_words[op.src_start : op.src_end])))
        else:
            deleted.extend(quote_words[op.src_start : op.src_end])
            inserted.extend(page_words[op.dest_start : op.dest_end])
    flush()
    return tuple(diff)
