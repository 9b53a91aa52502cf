"""`manage.py check_sources POLICY [--version V] [--format text|json]`: drift of each published
version's quotes (`citations.drift`), over the version's time in effect. Exits 0 when every
quote holds (or every finding has been reviewed), 1 when any does not, 2 on bad input."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies import catalog

DRIFT = 1
BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Check each published version's quotes against the snapshot of its page in force on the "
        "version's date and every later snapshot up to the next version's date (the newest "
        "version: up to the latest snapshot). Exits 1 on drift not yet reviewed, 2 on bad input."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("policy", help="The policy's slug.")
        parser.add_argument("--version", dest="version_id", metavar="YYYY-MM-DD")
        parser.add_argument("--format", dest="output", choices=["text", "json"], default="text")

    def handle(
        self, *args: Any, policy: str, version_id: str | None, output: str, **options: Any
    ) -> None:
        try:
            findings = catalog.drift_findings(policy, version_id)
        except catalog.CatalogError as exc:
            errors = catalog.errors_naming_new_slug(policy, exc)
            if output == "json":
                self.stdout.write(json.dumps({"errors": errors}))
            raise CommandError("; ".join(errors.values()), returncode=BAD_INPUT) from None
        ok = all(f.reviewed is not None for f in findings)
        if output == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "policy": policy,
                        "ok": ok,
                        "findings": [f.payload() for f in findings],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            for f in findings:
                reviewed = (
                    f"reviewed: {f.reviewed.verdict.lower()}" if f.reviewed else "not reviewed"
                )
                self.stdout.write(
                    f"{policy} {f.version} {f.clause}: {f.status} since {f.since.isoformat()} "
                    f"({f.similarity:.0%} alike; {f.answer_sets} answer sets, "
                    f"{f.saved_results} saved results; {reviewed})"
                )
                if f.closest:
                    self.stdout.write(f"    closest: {f.closest}")
            self.stdout.write(
                f"{policy}: every quote holds"
                if not findings
                else f"{policy}: "
                f"{len(findings)} finding(s), "
                f"{sum(1 for f in findings if f.reviewed is None)} not reviewed"
            )
        if not ok:
            raise SystemExit(DRIFT)
