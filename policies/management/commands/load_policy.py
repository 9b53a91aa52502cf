from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from policies.loading import SeedError, policy_load, read_document, seed_files
from policies.models import Policy


class Command(BaseCommand):
    help = (
        "Load policies from YAML seed files (default: every file in policies/seed/). A new "
        "policy is loaded as the file says; into a policy that exists, each version the database "
        "does not have published is imported as a draft for an admin to publish. Published "
        "versions and existing scenarios are never changed. A file with an unknown key, a "
        "dangling reference or a duplicate id is refused whole, naming the line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help="YAML files to load.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the policy and everything in it first, then load the file.",
        )
        parser.add_argument(
            "--if-absent",
            action="store_true",
            help="Skip a policy whose slug already exists (used by `make run`).",
        )

    def handle(self, *args, files: list[Path], replace: bool, if_absent: bool, **options) -> None:
        paths = files or seed_files()
        try:
            documents = [read_document(path) for path in paths]
        except (OSError, SeedError) as exc:
            raise CommandError(str(exc)) from None
        for document in documents:
            # A policy renamed since is there still, under its new slug.
            present = Policy.objects.filter(
                Q(slug=document.slug) | Q(previous_slugs__slug=document.slug)
            )
            if if_absent and present.exists():
                self.stdout.write(f"{document.slug}: already loaded")
                continue
            try:
                report = policy_load(document=document, replace=replace)
            except SeedError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(str(report))
