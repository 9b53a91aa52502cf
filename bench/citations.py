"""ms for the citation checks of the seed, side by side in one run:

- prepare: reading every snapshot the seed ships into `quotes.Page`s (done once per check run);
- check: `citations.check` of one version (each clause against its page's copy in force);
- drift: `citations.drift` of one version over its time in effect;
- naive: each clause against every copy of its page, each copy renormalised for each quote (what
  a drift check without prepared pages does).

Reads only the YAML seed and its snapshot files (no database). Run: .venv/bin/python
bench/citations.py. Prints; asserts nothing. Target: every version's check in well under 50 ms.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

import django

django.setup()

from policies import citations, quotes  # noqa: E402
from policies.loading import SEED_DIR, read_document, sources_of, to_engine  # noqa: E402

ROUNDS = 5


def best_ms(run: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    document = read_document(SEED_DIR / "claude-code.yaml")
    versions = [to_engine(document.slug, v) for v in document.versions]

    def prepare() -> dict[str, citations.Source]:
        quotes.prepare.cache_clear()
        return sources_of(document)

    prepare_ms = best_ms(prepare)
    sources = sources_of(document)
    spans = citations.windows([v.effective_date for v in document.versions])
    print(
        f"prepare {sum(len(d.snapshots) for d in document.documents)} snapshots: "
        f"{prepare_ms:.2f} ms"
    )
    print(f"{'version':<12} {'clauses':>7} {'check ms':>9} {'drift ms':>9} {'naive ms':>9}")
    for version, (start, end) in zip(versions, spans, strict=True):
        check = best_ms(lambda version=version: citations.check(version, sources))
        drift = best_ms(
            lambda version=version, start=start, end=end: citations.drift(
                version, sources, start=start, end=end
            )
        )

        def naive(version=version) -> None:
            for clause in version.clauses:
                source = sources.get(clause.document)
                if source is None:
                    continue
                for snapshot in source.snapshots:
                    quotes.find(clause.quote, quotes.Page(snapshot.page.text))

        print(
            f"{version.version:<12} {len(version.clauses):>7} {check:>9.2f} {drift:>9.2f} "
            f"{best_ms(naive):>9.2f}"
        )


if __name__ == "__main__":
    main()
