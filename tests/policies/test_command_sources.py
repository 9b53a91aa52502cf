"""`manage.py check_sources` (drift, its JSON and exit codes) and `manage.py import_snapshot`
(no change, a new copy, and bad input that stores nothing)."""

import json
import socket
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from policies.loading import SEED_DIR
from policies.models import Snapshot

LEGAL = SEED_DIR / "snapshots" / "legal-and-compliance" / "2026-08-22.md"
QUOTED = "your existing commercial agreement will apply to Claude Code usage"


def run(command: str, *args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def reworded(tmp_path: Path) -> Path:
    text = LEGAL.read_text(encoding="utf-8")
    assert QUOTED in text
    path = tmp_path / "legal.md"
    path.write_text(text.replace(QUOTED, "your existing commercial agreement governs Claude Code"))
    return path


def test_the_seed_holds_up(seeded):
    code, out, _ = run("check_sources", "claude-code", "--format", "json")

    report = json.loads(out)
    assert code == 0
    assert report["ok"] is True
    assert {(f["version"], f["clause"], f["since"]) for f in report["findings"]} == {
        ("2026-02-18", "auth-cloud-providers", "2026-03-18"),
        ("2026-04-04", "agent-sdk-login", "2026-08-18"),
        ("2026-04-04", "hc-baa-1p-api", "2026-08-19"),
    }
    assert all(f["reviewed"]["note"] for f in report["findings"])


def test_a_reworded_quoted_sentence_is_drift_since_the_copy_that_rewords_it(seeded, reworded):
    code, out, _ = run(
        "import_snapshot",
        "https://code.claude.com/docs/en/legal-and-compliance",
        str(reworded),
        "--date",
        "2026-09-01",
    )
    assert (code, out.split()[0]) == (0, "recorded")

    code, out, _ = run(
        "check_sources", "claude-code", "--version", "2026-08-22", "--format", "json"
    )

    report = json.loads(out)
    assert code == 1
    assert report["ok"] is False
    [finding] = report["findings"]
    assert list(finding) == [
        "version",
        "clause",
        "document",
        "status",
        "since",
        "closest",
        "similarity",
        "rules",
        "answer_sets",
        "saved_results",
        "reviewed",
    ]
    assert finding["clause"] == "lc-commercial-agreements"
    assert finding["document"] == "https://code.claude.com/docs/en/legal-and-compliance"
    assert (finding["status"], finding["since"]) == ("changed", "2026-09-01")
    assert "governs Claude Code" in finding["closest"]
    assert 0.5 < finding["similarity"] < 1
    assert finding["rules"] and finding["answer_sets"] > 0
    assert finding["reviewed"] is None


def test_a_copy_with_only_its_link_targets_and_tracking_changed_is_no_change(seeded, tmp_path):
    text = LEGAL.read_text(encoding="utf-8")
    moved = tmp_path / "legal.md"
    moved.write_text(
        text.replace("](https://", "](https://moved.example/?utm_source=feed&next=https://")
    )
    before = Snapshot.objects.count()

    code, out, _ = run(
        "import_snapshot", "legal-and-compliance", str(moved), "--date", "2026-09-01"
    )

    assert (code, out.split()[:2]) == (0, ["no", "change"])
    assert Snapshot.objects.count() == before


def test_a_second_copy_on_one_date_needs_replace(seeded, reworded):
    args = ["legal-and-compliance", str(reworded), "--date", "2026-08-22"]
    code, _, message = run("import_snapshot", *args)
    assert code == 2 and "--replace" in message

    code, out, _ = run("import_snapshot", *args, "--replace")
    assert (code, out.split()[0]) == (0, "replaced")
    assert (
        "governs"
        in Snapshot.objects.get(document__key="legal-and-compliance", date="2026-08-22").text
    )


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00"), [], "binary file"),
        (lambda p: p.write_bytes(b"a" * 20_000_000), [], "at most"),
        (lambda p: p.write_bytes(b"caf\xe9"), [], "not UTF-8"),
        (lambda p: p.write_text("Text."), ["--date", "2026-02-30"], "YYYY-MM-DD"),
        (lambda p: p.write_text("Text."), ["--date", "yesterday"], "YYYY-MM-DD"),
        (lambda p: p.write_text("Text."), ["--date", "2999-01-01"], "future"),
    ],
    ids=["binary", "20 MB", "not utf-8", "no such day", "not a date", "future"],
)
def test_bad_input_is_a_clear_error_that_stores_nothing(seeded, tmp_path, make, extra, message):
    path = tmp_path / "copy.md"
    make(path)
    before = Snapshot.objects.count()

    code, _, error = run("import_snapshot", "legal-and-compliance", str(path), *extra)

    assert code == 2
    assert message in error
    assert Snapshot.objects.count() == before


def test_an_unknown_document_is_a_clear_error(seeded, tmp_path):
    (tmp_path / "copy.md").write_text("Text.")

    code, _, error = run("import_snapshot", "https://example.com/nope", str(tmp_path / "copy.md"))

    assert code == 2 and "No source document" in error


def test_a_fetch_from_a_server_that_never_answers_times_out_and_stores_nothing(seeded):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    before = Snapshot.objects.count()
    try:
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/page"
        code, _, error = run(
            "import_snapshot", "legal-and-compliance", "--url", url, "--timeout", "0.5"
        )
    finally:
        for conn in accepted:
            conn.close()
        listener.close()

    assert code == 2
    assert "timed out" in error and "nothing was stored" in error
    assert Snapshot.objects.count() == before


def test_a_fetch_must_be_https(seeded):
    code, _, error = run("import_snapshot", "legal-and-compliance", "--url", "http://x.example/")

    assert code == 2 and "https://" in error


@pytest.mark.parametrize(
    ("args", "message"),
    [(["nope"], "Unknown policy"), (["claude-code", "--version", "2020-01-01"], "No such version")],
)
def test_check_sources_exits_2_on_bad_input(seeded, args, message):
    code, out, error = run("check_sources", *args, "--format", "json")

    assert code == 2
    assert message in error and "errors" in json.loads(out)


def test_a_finding_counts_the_saved_results_that_cite_the_clause(seeded, reworded):
    from policies import catalog
    from wizard.services import result_create

    newest = catalog.version_by_id("claude-code", "2026-08-22")
    bedrock = {"plan": "bedrock", "tool": "claude_code", "audience": "just_me", "phi": "no"}
    result_create(version=newest, answers=bedrock)  # rests on lc-commercial-agreements
    result_create(
        version=newest,
        answers={"plan": "pro", "tool": "claude_code", "audience": "just_me", "phi": "no"},
    )
    run("import_snapshot", "legal-and-compliance", str(reworded), "--date", "2026-09-01")

    _, out, _ = run("check_sources", "claude-code", "--version", "2026-08-22", "--format", "json")

    [finding] = json.loads(out)["findings"]
    assert finding["clause"] == "lc-commercial-agreements"
    assert finding["saved_results"] == 1
