"""The vendored htmx (no browser needed): one version, and its pre-compressed copy, which
WhiteNoise serves to browsers that accept gzip, is the very same file."""

from __future__ import annotations

import gzip

from django.conf import settings

JS = settings.BASE_DIR / "static" / "js"


def test_the_compressed_copy_of_htmx_is_the_same_file():
    plain = (JS / "htmx.min.js").read_bytes()

    assert gzip.decompress((JS / "htmx.min.js.gz").read_bytes()) == plain


def test_htmx_is_the_version_the_readme_names():
    text = (JS / "htmx.min.js").read_text()
    readme = (settings.BASE_DIR / "README.md").read_text()

    assert 'version:"2.0.11"' in text
    assert "htmx 2.0.11" in readme
