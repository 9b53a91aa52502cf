"""Static file storages: files straight from static/ for `make run` and the tests, collected
files with hashed names for `make serve` (see STORAGES in settings.py).

Both remember each file's URL: every page asks for the same few files, and Django's storages
rebuild the URL (manifest lookup, quoting, joining) on every `{% static %}` call, which cost
a page view about 20 µs per file. A URL cannot change while the process runs: the hashed names
are fixed when collectstatic runs, before the server starts.
"""

from __future__ import annotations

from django.contrib.staticfiles.storage import StaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


class _RememberedURLs:
    _urls: dict[str, str]

    def url(self, name: str | None, force: bool = False) -> str:
        if name is None or force:
            return super().url(name, force)  # type: ignore[misc]
        urls = self.__dict__.setdefault("_urls", {})
        if name not in urls:
            urls[name] = super().url(name)  # type: ignore[misc]
        return urls[name]


class SourceStaticStorage(_RememberedURLs, StaticFilesStorage):
    """The files as they are in static/ (WhiteNoise finds them there)."""


class CollectedStaticStorage(_RememberedURLs, CompressedManifestStaticFilesStorage):
    """Collected, compressed, and named by content hash, so WhiteNoise can serve them with
    far-future caching (`Cache-Control: max-age=315360000, public, immutable`)."""
