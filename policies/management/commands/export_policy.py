"""`manage.py export_policy <slug> [--version YYYY-MM-DD]`: a policy from the database, printed in
the YAML seed format that `load_policy` reads (every dated version, or the one asked for)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies import catalog
from policies.exporting import (
    ExportError,
    VersionExport,
    dump_yaml,
    export_document,
    scenario_fits,
)
from policies.loading import ScenarioDoc


class Command(BaseCommand):
    help = (
        "Print a policy in the YAML seed format: every version with an effective date (a draft "
        "that shares its date with a published version is left out), or only --version, and the "
        "policy's scenarios. The output loads back with `load_policy` into the same versions."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version names a policy version; it replaces Django's "print Django's version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The policy, e.g. the slug in its URL.")
        parser.add_argument(
            "--version",
            dest="version_id",
            metavar="YYYY-MM-DD",
            help="YYYY-MM-DD: export only this version.",
        )

    def handle(self, *args: Any, slug: str, version_id: str | None, **options: Any) -> None:
        try:
            policy = catalog.policy(slug)
        except catalog.PolicyNotFound as exc:
            raise CommandError(catalog.errors_naming_new_slug(slug, exc)["policy"]) from None
        chosen = self.versions(slug, version_id)
        exported: list[VersionExport] = [
            (v.version_id, v.notes, v.status, catalog.compiled(v)) for v in chosen
        ]
        scenarios = [
            ScenarioDoc(
                name=s.name,
                answers=dict(s.answers),
                as_of=s.as_of,
                verdict=s.verdict,
                must_include=s.includes,
                must_exclude=s.excludes,
            )
            for s in catalog.scenarios_of(slug)
        ]
        if version_id is not None:
            # One version alone may lack ids that scenarios of other versions name.
            kept = [s for s in scenarios if scenario_fits(s, [v for *_, v in exported])]
            for scenario in scenarios:
                if scenario not in kept:
                    self.stderr.write(
                        f"Left out scenario {scenario.name!r}: it names ids that version "
                        f"{version_id} does not have."
                    )
            scenarios = kept
        named = {c.document for *_, v in exported for c in v.clauses if c.document}
        try:
            document = export_document(
                policy.slug,
                policy.title,
                policy.summary,
                exported,
                scenarios,
                documents=catalog.documents_for_export(named),
                reviews=catalog.review_docs(chosen),
                shown_as={v.version_id: (v.policy.title, v.policy.summary) for v in chosen},
            )
        except ExportError as exc:
            raise CommandError(f"{slug}: {exc}") from None
        self.stdout.write(dump_yaml(document), ending="")

    def versions(self, slug: str, version_id: str | None) -> list[catalog.VersionRef]:
        if version_id is not None:
            try:
                return [catalog.version_by_id(slug, version_id, include_drafts=True)]
            except catalog.VersionNotFound:
                raise CommandError(
                    f"{slug} has no version {version_id!r} (write it YYYY-MM-DD)."
                ) from None
        by_date: dict[str, catalog.VersionRef] = {}
        # A draft comes before the published version of its date, which so wins the date.
        for version in catalog.versions(slug):
            if not version.version_id:
                self.stderr.write(
                    f"Skipped {version}: a version needs an effective date to export."
                )
                continue
            if version.version_id in by_date:
                self.stderr.write(
                    f"Skipped {by_date[version.version_id]}: {version} has the same date."
                )
            by_date[version.version_id] = version
        if not by_date:
            raise CommandError(f"{slug} has no version with an effective date.")
        return list(by_date.values())
