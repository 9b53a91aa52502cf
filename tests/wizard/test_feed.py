"""`/<policy>/changes.atom`: published versions with what changed and their impact, and
reviewed drift, as an Atom feed."""

import xml.etree.ElementTree as ET

import pytest

from policies import diffing

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(client, slug="claude-code"):
    response = client.get(f"/{slug}/changes.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    return [
        (e.find(f"{ATOM}title").text, e.find(f"{ATOM}summary").text, e.find(f"{ATOM}id").text)
        for e in feed.findall(f"{ATOM}entry")
    ]


def test_the_feed_lists_each_published_version_with_its_note_and_impact(client, seeded):
    found = {title: summary for title, summary, _ in entries(client)}

    newest = found["Version 2026-08-22 of Using Claude Code and your Claude plan"]
    assert newest.startswith('New section "Can customers offer Claude Code')
    assert "Changes the outcome for " in newest and " of 2341 answer sets" in newest
    first = found["Version 2025-08-28 of Using Claude Code and your Claude plan"]
    assert "Changes the outcome" not in first  # nothing before it to compare with


def test_the_feed_lists_reviewed_drift_with_its_note(client, seeded):
    found = entries(client)

    reviewed = [e for e in found if e[0].startswith("auth-cloud-providers (2026-02-18)")]
    assert len(reviewed) == 1
    title, summary, guid = reviewed[0]
    assert "reworded on 2026-03-18" in title and "meaning unchanged" in title
    assert "Cloud providers" in summary
    assert guid.startswith("urn:eligibility-wizard:claude-code:review:")


def test_an_unknown_policy_has_no_feed(client, db):
    assert client.get("/nope/changes.atom").status_code == 404


def test_the_impact_is_computed_once_per_pair_of_versions(client, seeded, monkeypatch):
    entries(client)
    monkeypatch.setattr(diffing, "impact", lambda *args, **kwargs: pytest.fail("recomputed"))

    assert len(entries(client)) == 7
