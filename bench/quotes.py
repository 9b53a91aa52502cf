"""ms to check 100 quotes against one 50 KB page, side by side in one run:

- find: `quotes.prepare` once, then `quotes.find` for each quote (fragments in order, word
  boundaries; for a miss, rapidfuzz's alignment and the word diff);
- renormalise + in: `normalise` of the page and of the quote for every quote, then `in` (what a
  checker without a prepared page does);
- prepared + in: the page normalised once, then `in` (the floor: no fragments, no boundaries);
- difflib: for the misses, the closest passage found with difflib's SequenceMatcher over a
  sliding window of the quote's length in words, with get_close_matches' cut-offs.

The page is the seed's copies of the "Legal and compliance" page (policies/seed/snapshots), one
after the other and repeated to 50 KB. 80 quotes are sentences and clauses of it (some with "…"),
20 are the same with one word changed, so they miss.

Run: .venv/bin/python bench/quotes.py. Prints; asserts nothing. Target: 100 quotes in well under
50 ms, page included.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies import quotes

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "policies" / "seed" / "snapshots" / "legal-and-compliance"
SEED = ROOT / "policies" / "seed" / "claude-code.yaml"
PAGE_BYTES = 50_000
FOUND, MISSES = 80, 20
ROUNDS = 5


def build_page() -> str:
    copies = [path.read_text(encoding="utf-8") for path in sorted(SNAPSHOTS.glob("*.md"))]
    text = "\n\n".join(copies)
    while len(text.encode()) < PAGE_BYTES:
        text += "\n\n" + text
    return text.encode()[:PAGE_BYTES].decode(errors="ignore")


def build_quotes(page: quotes.Page) -> tuple[list[str], list[str]]:
    """The seed's quotes of this page, then sentences of it (every fifth with an elision), then
    the misses: found quotes with one word replaced."""
    seed = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    found = [
        str(c["quote"]).strip()
        for c in seed["clauses"]
        if "legal-and-compliance" in c["url"] and quotes.find(c["quote"], page).found
    ]
    sentences = [
        s.strip() + "."
        for block in page.normalised.split("\n")
        for s in block.split(". ")
        if len(s.split()) >= 8
    ]
    rng = random.Random(7)
    while len(found) < FOUND:
        words = rng.choice(sentences).split()
        if len(found) % 5 == 0 and len(words) > 12:
            words = [*words[:5], "…", *words[-5:]]
        candidate = " ".join(words)
        if quotes.find(candidate, page).found:
            found.append(candidate)
    misses = []
    for quote in rng.sample(found, MISSES):
        words = quote.replace("…", " ").split()
        words[len(words) // 2] = "notably"
        misses.append(" ".join(words))
    return found[:FOUND], misses


def best_ms(run: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def difflib_closest(quote: str, page_words: list[str]) -> tuple[int, float]:
    """The window of the page's words most like the quote's, by SequenceMatcher.ratio."""
    quote_words = quotes.normalise(quote).split()
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(quote_words)
    best, at = 0.0, 0
    width = len(quote_words)
    for start in range(max(1, len(page_words) - width + 1)):
        matcher.set_seq1(page_words[start : start + width])
        if (
            matcher.real_quick_ratio() > best
            and matcher.quick_ratio() > best
            and matcher.ratio() > best
        ):
            best, at = matcher.ratio(), start
    return at, best


def main() -> None:
    text = build_page()
    page = quotes.Page(text)
    found, misses = build_quotes(page)
    everything = found + misses
    assert not any(quotes.find(q, page).found for q in misses)

    def find_all(batch: list[str]) -> Callable[[], None]:
        def run() -> None:
            prepared = quotes.Page(text)  # a new page: nothing cached from the last round
            for quote in batch:
                quotes.find(quote, prepared)

        return run

    def renormalise_in() -> None:
        for quote in everything:
            _ = quotes.normalise(quote) in quotes.normalise(text)

    def prepared_in() -> None:
        normalised = quotes.normalise(text)
        for quote in everything:
            _ = quotes.normalise(quote) in normalised

    page._maps  # noqa: B018 - the map back to the page's text, built once per page on a miss
    rows = [
        ("normalise the page once", best_ms(lambda: quotes.Page(text))),
        (f"find, {FOUND} found, page included", best_ms(find_all(found))),
        (f"find, all {len(everything)}, page included", best_ms(find_all(everything))),
        (
            f"find, {FOUND} found, page prepared",
            best_ms(lambda: [quotes.find(q, page) for q in found]),
        ),
        (
            f"find, {MISSES} misses, page prepared",
            best_ms(lambda: [quotes.find(q, page) for q in misses]),
        ),
        (f"renormalise + in, all {len(everything)}", best_ms(renormalise_in)),
        (f"prepared + in, all {len(everything)}", best_ms(prepared_in)),
    ]
    page_words = page.normalised.split()
    start = time.perf_counter()
    closest = [difflib_closest(q, page_words) for q in misses]
    difflib_ms = (time.perf_counter() - start) * 1e3
    ours = [quotes.find(q, page) for q in misses]
    agree = sum(
        1
        for match, (at, _) in zip(ours, closest, strict=True)
        if quotes.normalise(match.closest).split()[:3] == page_words[at : at + 3]
    )

    print(f"one page of {len(text.encode()):,} bytes, {FOUND} quotes found and {MISSES} missed")
    print(f"{'':44} {'ms':>8}")
    for label, ms in rows:
        print(f"{label:44} {ms:>8.2f}")
    print(f"{f'difflib closest passage, {MISSES} misses (1 run)':44} {difflib_ms:>8.2f}")
    ms = dict(rows)
    everything_ms = ms[f"find, all {len(everything)}, page included"]
    miss_ms = ms[f"find, {MISSES} misses, page prepared"]
    renormalise_ms = ms[f"renormalise + in, all {len(everything)}"]
    print(
        f"find / renormalise + in: {everything_ms / renormalise_ms:.2f}x; "
        f"difflib / find on misses: {difflib_ms / miss_ms:.0f}x; "
        f"same closest passage as difflib on {agree} of {MISSES}"
    )
    print("target: 100 quotes against the page, page included, well under 50 ms")


if __name__ == "__main__":
    main()
