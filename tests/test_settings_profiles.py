"""Settings that follow the environment, read as a fresh process reads them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def settings_under(env: dict[str, str], expression: str) -> str:
    """What `expression` (over `settings`) prints in a new process with these variables."""
    script = f"import django; django.setup(); from django.conf import settings; print({expression})"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(settings.BASE_DIR),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout.strip()


def test_the_production_profile_serves_the_collected_files():
    printed = settings_under(
        {"DJANGO_STATIC_FROM_FINDERS": "0"},
        "settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS",
    )

    assert printed.split() == ["wizard.storage.CollectedStaticStorage", "False"]


def test_rendered_responses_are_kept_only_with_debug_off():
    backend = "settings.CACHES['rendered']['BACKEND']"

    assert settings_under({"DJANGO_DEBUG": "0"}, backend).endswith("LocMemCache")
    # With DEBUG on, templates reload as they are edited: a kept page would hide the edit.
    assert settings_under({"DJANGO_DEBUG": "1"}, backend).endswith("DummyCache")
