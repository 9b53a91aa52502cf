"""The seed's citations hold up: every quote of a page we hold a copy of is that copy's own words,
a version quotes the copy in force on its date unless the clause is a later statement, and the
copies are the ones the manifest describes. Reads only files in the repository."""

import datetime as dt
import hashlib
import json
from functools import cache
from pathlib import Path

import pytest

from policies import quotes
from policies.loading import SEED_DIR, read_document

SNAPSHOTS = SEED_DIR / "snapshots"
MANIFEST = json.loads((SNAPSHOTS / "manifest.json").read_text(encoding="utf-8"))
DOCUMENTS = {url: doc for doc in MANIFEST for url in (doc["url"], *doc["other_urls"])}
# Pages that are Anthropic's documentation or help centre: the seed must hold a copy of each one
# it cites (a typo in a URL must not turn a checked quote into an unchecked one).
COPIED_SITES = (
    "https://code.claude.com/",
    "https://docs.anthropic.com/",
    "https://support.claude.com/",
)
SEED = read_document(SEED_DIR / "claude-code.yaml")


@cache
def page(doc: str, date: str) -> quotes.Page:
    return quotes.Page((SNAPSHOTS / doc / f"{date}.md").read_text(encoding="utf-8"))


def dates(doc: dict) -> list[str]:
    return sorted(snapshot["date"] for snapshot in doc["snapshots"])


def cited_copies():
    for version in SEED.versions:
        for clause in version.clauses:
            doc = DOCUMENTS.get(clause["url"])
            if doc is not None:
                yield pytest.param(version.id, clause, doc, id=f"{version.id}-{clause['key']}")


@pytest.mark.parametrize(("version", "clause", "doc"), list(cited_copies()))
def test_the_quote_is_in_the_copy_its_version_names(version, clause, doc):
    assert clause["version"] in dates(doc), f"no copy of {doc['doc']} dated that"

    match = quotes.find(clause["quote"], page(doc["doc"], clause["version"]))

    assert match.found, f"{match.reason}; closest: {match.closest!r}; diff: {match.diff}"


@pytest.mark.parametrize(("version", "clause", "doc"), list(cited_copies()))
def test_a_version_quotes_the_copy_in_force_unless_the_clause_is_a_later_statement(
    version, clause, doc
):
    in_force = [d for d in dates(doc) if d <= version]
    later_statement = clause["version"] > version

    if later_statement:
        # Only where the copy in force (if there is one) does not say it.
        if in_force:
            assert not quotes.find(clause["quote"], page(doc["doc"], in_force[-1])).found
    else:
        assert in_force, "no copy in force, so the clause can only be a later statement"
        match = quotes.find(clause["quote"], page(doc["doc"], in_force[-1]))
        assert match.found, f"not in the copy in force ({in_force[-1]}): {match.reason}"


def test_every_documentation_and_help_centre_clause_has_a_copy():
    uncopied = {
        (clause["key"], clause["url"])
        for version in SEED.versions
        for clause in version.clauses
        if clause["url"].startswith(COPIED_SITES) and clause["url"] not in DOCUMENTS
    }

    assert not uncopied


def test_every_clause_version_is_a_date():
    for version in SEED.versions:
        for clause in version.clauses:
            dt.date.fromisoformat(clause["version"])


def test_the_copies_are_the_ones_the_manifest_lists_byte_for_byte():
    listed = {
        Path(doc["doc"]) / f"{snapshot['date']}.md": snapshot["sha256"]
        for doc in MANIFEST
        for snapshot in doc["snapshots"]
    }
    present = {path.relative_to(SNAPSHOTS) for path in SNAPSHOTS.glob("*/*.md")}

    assert present == set(listed)
    for path, sha256 in listed.items():
        assert hashlib.sha256((SNAPSHOTS / path).read_bytes()).hexdigest() == sha256, path


def test_a_copy_is_kept_only_if_a_clause_quotes_it_or_it_was_in_force_or_is_the_latest():
    quoted = {
        (DOCUMENTS[c["url"]]["doc"], c["version"])
        for version in SEED.versions
        for c in version.clauses
        if c["url"] in DOCUMENTS
    }
    for doc in MANIFEST:
        kept = dates(doc)
        in_force = {max(d for d in kept if d <= v.id) for v in SEED.versions if kept[0] <= v.id}
        unneeded = (
            set(kept) - in_force - {kept[-1]} - {d for name, d in quoted if name == doc["doc"]}
        )
        assert not unneeded, doc["doc"]
        assert any(name == doc["doc"] for name, _ in quoted), f"no clause quotes {doc['doc']}"


@pytest.mark.parametrize(
    "path", sorted(SNAPSHOTS.glob("*/*.md")), ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_a_copy_normalises_the_same_when_tracked_and_its_passages_map_back(path):
    copy = quotes.Page(path.read_text(encoding="utf-8"))

    tracked, _ = quotes._normalise_tracked(copy.text)

    assert tracked == copy.normalised
    for block in copy.normalised.split("\n")[:40]:
        start = copy.normalised.index(block)
        start_in_text, end_in_text = copy.original_span(start, start + len(block))
        assert quotes.normalise(copy.text[start_in_text:end_in_text]) == block
