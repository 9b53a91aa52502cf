"""`manage.py evaluate <slug> --answers '<json>' [--as-of YYYY-MM-DD]`: the API's evaluation on
the command line. It prints exactly the JSON the API returns (the same payload functions build
both) and exits 0, or prints the API's error JSON and exits 2."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from policies import catalog
from policies.payloads import decision_payload, with_reviewed_drift

BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Evaluate answers against the version of a policy in effect today (or on --as-of) and "
        "print the decision as JSON, as POST /api/v1/policies/<slug>/evaluate returns it. Exits 2 "
        'with {"errors": {...}} on bad input.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The policy, e.g. the slug in its URL.")
        parser.add_argument(
            "--answers",
            help='A JSON object mapping question ids to choice ids, e.g. \'{"plan": "max"}\'.',
        )
        parser.add_argument(
            "--as-of", dest="as_of", help="YYYY-MM-DD: use the version in effect on that day."
        )

    def handle(
        self, *args: Any, slug: str, answers: str | None, as_of: str | None, **options: Any
    ) -> None:
        try:
            evaluation = catalog.evaluate(slug, parse_answers(answers), as_of)
        except catalog.CatalogError as exc:
            self.print_json({"errors": catalog.errors_naming_new_slug(slug, exc)})
            # Not CommandError: that writes plain text to stderr, and callers parse stdout.
            raise SystemExit(BAD_INPUT) from None
        self.print_json(
            with_reviewed_drift(
                decision_payload(evaluation.version, evaluation.decision),
                catalog.reworded(evaluation.version),
            )
        )

    def print_json(self, payload: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(payload, indent=2))


def parse_answers(text: str | None) -> object:
    if text is None:
        raise catalog.InputRefused(
            {
                "answers": '--answers is required: a JSON object such as \'{"<question id>": '
                '"<choice id>"}\'.'
            },
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise catalog.InputRefused(
            {
                "answers": f"--answers is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                f"{exc.colno}); write an object mapping question ids to choice ids."
            },
        ) from None
