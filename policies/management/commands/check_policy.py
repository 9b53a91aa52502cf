"""`manage.py check_policy <slug or file.yaml> [--version YYYY-MM-DD]`: the static checks of
`policies.analysis` for each version, one finding a line. Exits 1 when any version has an error,
2 when there is nothing to check (no such file, policy or version, or a document that does not
load), 0 otherwise."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies import analysis, catalog, citations, engine
from policies.loading import SeedError, read_document, sources_of, to_engine

Checked = tuple[str, engine.Version, dict[str, citations.Source]]

FOUND_ERRORS = 1
CANNOT_CHECK = 2


class Command(BaseCommand):
    help = (
        "Check a policy's versions for gaps, conflicts, unreachable rules and questions, and "
        "uncited clauses, and whether each quote is in the snapshot of its page in force on the "
        "version's date. Give a policy slug (read from the database, drafts included) or a "
        "YAML seed file ending in .yaml or .yml (no database needed). Exits 1 if any error is "
        "found, 2 if there is nothing to check."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version names a policy version; it replaces Django's "print Django's version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="A policy slug, or the path of a YAML seed file.")
        parser.add_argument(
            "--version",
            dest="version_id",
            metavar="YYYY-MM-DD",
            help="YYYY-MM-DD: check only this version.",
        )

    def handle(self, *args: Any, target: str, version_id: str | None, **options: Any) -> None:
        if target.endswith((".yaml", ".yml")):
            versions = from_file(Path(target), version_id)
        else:
            versions = from_database(target, version_id)
        failing = []
        for label, version, sources in versions:
            findings = analysis.check(version) + citations.check(version, sources)
            findings.sort(key=lambda f: f.severity != analysis.ERROR)
            errors = sum(1 for f in findings if f.severity == analysis.ERROR)
            warnings = len(findings) - errors
            self.stdout.write(f"{label}: {plural(errors, 'error')}, {plural(warnings, 'warning')}")
            for finding in findings:
                self.stdout.write(
                    f"  {finding.severity:<7} {finding.code:<20} {finding.subject}: "
                    f"{finding.message}"
                )
                if finding.example:
                    self.stdout.write(f"  {'':<7} {'':<20} for example: {finding.example_text}")
            if errors:
                failing.append(label)
        if failing:
            raise CommandError(f"errors found in {', '.join(failing)}", returncode=FOUND_ERRORS)


def from_file(path: Path, version_id: str | None) -> list[Checked]:
    if not path.is_file():
        raise CommandError(f"No such file: {path}", returncode=CANNOT_CHECK)
    try:
        document = read_document(path)
        chosen = [v for v in document.versions if version_id in (None, v.id)]
        if not chosen:
            raise CommandError(
                f"{path} has no version {version_id!r}; its versions are "
                + ", ".join(v.id for v in document.versions),
                returncode=CANNOT_CHECK,
            )
        sources = sources_of(document)
        return [(f"{document.slug} {v.id}", to_engine(document.slug, v), sources) for v in chosen]
    except (OSError, SeedError) as exc:
        raise CommandError(str(exc), returncode=CANNOT_CHECK) from None


def from_database(slug: str, version_id: str | None) -> list[Checked]:
    try:
        catalog.policy(slug)
    except catalog.PolicyNotFound as exc:
        message = catalog.errors_naming_new_slug(slug, exc)["policy"]
        raise CommandError(
            f"{message} (A file to check must end in .yaml or .yml.)", returncode=CANNOT_CHECK
        ) from None
    if version_id is None:
        return [_checked(version) for version in catalog.versions(slug)]
    try:
        version = catalog.version_by_id(slug, version_id, include_drafts=True)
    except catalog.VersionNotFound:
        raise CommandError(
            f"{slug} has no version {version_id!r} (write it YYYY-MM-DD).",
            returncode=CANNOT_CHECK,
        ) from None
    return [_checked(version)]


def _checked(version: catalog.VersionRef) -> Checked:
    built = catalog.compiled(version)
    return str(version), built, catalog.sources_of(built)


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
