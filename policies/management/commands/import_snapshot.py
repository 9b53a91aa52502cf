"""`manage.py import_snapshot DOCUMENT FILE|--url URL [--date YYYY-MM-DD] [--note TEXT]
[--replace]`: record a page's text as seen on a day. DOCUMENT is the document's key or the URL
its clauses cite. A text that is the same page as the latest copy on or before the date (link
targets, tracking parameters and whitespace aside) is not stored: it prints `no change`. Exits 0
when stored or unchanged, 2 on bad input or a failed fetch; nothing is stored then."""

import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from policies import catalog, services
from policies.loading import MAX_SNAPSHOT_BYTES, SeedError, snapshot_text

BAD_INPUT = 2
FETCH_TIMEOUT_SECONDS = 20.0


class Command(BaseCommand):
    help = (
        "Record a source document's text as seen on a day, from a file or fetched over HTTPS. "
        "Prints `no change` (and stores nothing) when it is the same page as the copy before."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("document", help="The document's key, or the URL its clauses cite.")
        parser.add_argument("file", nargs="?", help="A file holding the page's text (UTF-8).")
        parser.add_argument("--url", help="Fetch the text from this https:// URL instead.")
        parser.add_argument("--date", help="YYYY-MM-DD, the day the text was seen (default today).")
        parser.add_argument("--note", default="", help="What changed, in a few words.")
        parser.add_argument(
            "--replace", action="store_true", help="Replace the copy already recorded that day."
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=FETCH_TIMEOUT_SECONDS,
            help=f"Seconds to wait on the network (default {FETCH_TIMEOUT_SECONDS:g}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.record(**options)
        except (services.SnapshotRefused, SeedError, catalog.CatalogError) as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None

    def record(
        self,
        *,
        document: str,
        file: str | None,
        url: str | None,
        date: str | None,
        note: str,
        replace: bool,
        timeout: float,
        **options: Any,
    ) -> None:
        if (file is None) == (url is None):
            raise services.SnapshotRefused("Give either a FILE or --url URL, not both.")
        day = catalog.parse_date(date, "--date") if date is not None else timezone.now().date()
        assert day is not None
        row = services.document_for(document)
        if file is not None:
            text, provenance = read_file(Path(file)), {"file": Path(file).name}
        else:
            assert url is not None
            text, provenance = fetch(url, timeout), {"url": url}
        provenance["recorded"] = timezone.now().isoformat(timespec="seconds")
        result = services.snapshot_record(
            document=row,
            text=text,
            date=day,
            note=note,
            provenance=provenance,
            replace=replace,
        )
        if result.snapshot is None:
            assert result.unchanged_since is not None
            self.stdout.write(f"no change (same as {row.key} of {result.unchanged_since})")
            return
        verb = "replaced" if result.replaced else "recorded"
        self.stdout.write(
            f"{verb} {row.key} as of {day.isoformat()} ({len(text.encode()):,} bytes, "
            f"sha256 {result.snapshot.sha256[:12]}…)"
        )


def read_file(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_SNAPSHOT_BYTES:
            raise services.SnapshotRefused(
                f"{path} is {size:,} bytes; a snapshot may be at most {MAX_SNAPSHOT_BYTES:,}."
            )
        return snapshot_text(path.read_bytes(), str(path))
    except OSError as exc:
        raise services.SnapshotRefused(f"Cannot read {path}: {exc.strerror}.") from None


def fetch(url: str, timeout: float) -> str:
    """The text at an https:// URL: at most MAX_SNAPSHOT_BYTES, within `timeout` seconds per
    network wait, redirects only to https."""
    if not url.lower().startswith("https://"):
        raise services.SnapshotRefused("--url must be an https:// URL.")
    request = urllib.request.Request(url, headers={"User-Agent": "eligibility-wizard snapshot"})
    opener = urllib.request.build_opener(_HttpsOnlyRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            data = response.read(MAX_SNAPSHOT_BYTES + 1)
    except TimeoutError:
        raise services.SnapshotRefused(
            f"Fetching {url} timed out after {timeout:g} seconds; nothing was stored."
        ) from None
    except urllib.error.HTTPError as exc:
        raise services.SnapshotRefused(
            f"Fetching {url} failed: HTTP {exc.code}; nothing was stored."
        ) from None
    except (urllib.error.URLError, ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise services.SnapshotRefused(
                f"Fetching {url} timed out after {timeout:g} seconds; nothing was stored."
            ) from None
        raise services.SnapshotRefused(
            f"Fetching {url} failed: {reason}; nothing was stored."
        ) from None
    return snapshot_text(data, url)


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if not newurl.lower().startswith("https://"):
            raise services.SnapshotRefused(f"{req.full_url} redirects to {newurl}, not https.")
        return super().redirect_request(req, fp, code, msg, headers, newurl)
