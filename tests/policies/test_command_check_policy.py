"""`manage.py check_policy`: findings per version; exit 0 when clean, 1 on errors, 2 when there is
nothing to check."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from policies.loading import parse_document, policy_load, seed_files

GAP = """
policy: {slug: pets, title: Pet licence}
versions: [{id: 2025-01-01, status: draft}, {id: 2025-06-01, status: draft}]
clauses:
  - {id: act, url: "https://example.com/act", quote: Pets are fine.}
questions:
  - id: pet
    text: Which pet?
    choices: [{id: cat, label: Cat}, {id: fish, label: Fish}]
outcomes:
  verdict: [{id: "no", title: "No", text: Not allowed.}, {id: "yes", title: "Yes", text: Fine.}]
rules:
  - {id: cats, when: {pet: [cat]}, then: {verdict: "yes"}, reason: Fine., cite: [act]}
  - {id: fish, from: 2025-06-01, when: {pet: [fish]}, then: {verdict: "no"}, reason: No.,
     cite: [act]}
"""


def check(*args: str) -> tuple[int, str]:
    """Run the command; return its exit code and what it printed."""
    stdout = StringIO()
    try:
        call_command("check_policy", *args, stdout=stdout, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, stdout.getvalue() + str(exc)
    return 0, stdout.getvalue()


@pytest.fixture
def gap_file(tmp_path: Path) -> Path:
    path = tmp_path / "pets.yaml"
    path.write_text(GAP, encoding="utf-8")
    return path


def test_the_seed_file_has_no_errors():
    code, output = check(str(seed_files()[0]))

    assert code == 0
    assert output.count(": 0 errors,") == 4
    assert "claude-code 2026-08-22: 0 errors" in output


def test_a_gap_is_an_error_with_an_example(gap_file):
    code, output = check(str(gap_file))

    assert code == 1
    assert "pets 2025-01-01: 1 error, 1 warning\n" in output  # outcome "no" is unused there
    assert "error   gap                  verdict: No verdict rule matches 1 reachable" in output
    assert "for example: pet=fish" in output
    assert "pets 2025-06-01: 0 errors, 0 warnings" in output
    assert output.endswith("errors found in pets 2025-01-01")


def test_version_picks_one_version_of_the_file(gap_file):
    code, output = check(str(gap_file), "--version", "2025-06-01")
    assert code == 0
    assert "2025-01-01" not in output


def test_a_missing_file_is_named_plainly(tmp_path):
    code, output = check(str(tmp_path / "absent.yaml"))
    assert code == 2
    assert output == f"No such file: {tmp_path / 'absent.yaml'}"


def test_a_file_that_does_not_load_says_why(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text("policy: {slug: x}\n", encoding="utf-8")
    code, output = check(str(path))
    assert code == 2
    assert "slug and title are required" in output


def test_an_unknown_version_of_a_file_lists_the_versions(gap_file):
    code, output = check(str(gap_file), "--version", "2030-01-01")
    assert code == 2
    assert "its versions are 2025-01-01, 2025-06-01" in output


@pytest.mark.django_db
def test_a_slug_is_checked_from_the_database(seeded):
    code, output = check("claude-code")
    assert code == 0
    # Warnings only: documents of which no copy is held, outcomes resting on later statements.
    assert "claude-code 2025-08-28: 0 errors," in output
    assert " error " not in output
    warnings = [line.split()[1] for line in output.splitlines() if line.startswith("  warning")]
    assert set(warnings) == {"document_without_snapshot", "only_later_statements"}


@pytest.mark.django_db
def test_warnings_of_a_policy_in_the_database_are_printed(db):
    document = parse_document(
        yaml.safe_load(
            """
policy: {slug: pets, title: Pets}
versions: [{id: 2025-01-01, notes: First.}]
clauses:
  - {id: act, source: Act, url: "https://example.com/a", version: "1", quote: Fine.}
  - {id: unused, source: Guide, url: "https://example.com/g", version: "1", quote: Unused.}
questions:
  - {id: pet, text: "Which pet?", choices: [{id: cat, label: Cat}]}
outcomes:
  verdict: [{id: "yes", title: "Yes", text: Fine.}]
rules:
  - {id: ok, then: {verdict: "yes"}, reason: Fine., cite: [act]}
"""
        )
    )
    policy_load(document=document)
    code, output = check("pets")
    assert code == 0
    assert "uncited_clause" in output and "unused" in output


@pytest.mark.django_db
def test_one_version_of_a_policy_in_the_database(seeded):
    code, output = check("claude-code", "--version", "2026-08-22")
    assert code == 0
    assert output.splitlines()[0].startswith("claude-code 2026-08-22: 0 errors")


@pytest.mark.django_db
def test_an_unknown_policy_exits_2(db):
    code, output = check("nope")
    assert code == 2
    assert "Unknown policy 'nope'" in output


def test_the_process_exit_codes(gap_file):
    manage = Path(settings.BASE_DIR) / "manage.py"

    def run(target: str) -> int:
        return subprocess.run(
            [sys.executable, str(manage), "check_policy", target], capture_output=True
        ).returncode

    assert run(str(gap_file)) == 1
    assert run(str(seed_files()[0])) == 0
