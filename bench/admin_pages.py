"""The admin's version page for the seeded policy: HTML size, server time, queries and the number
of fields its forms post, for the version in effect (published) and a draft made from it, side by
side; then the time to save one row of the draft's grid (checks and scenarios re-run), and the
same for that row's situation page and a save from it.

Run: .venv/bin/python bench/admin_pages.py. A throwaway SQLite database; prints; asserts nothing.
Targets (issue 12): under 300 KB, under 300 ms, no form posting more than a few hundred fields,
a row saved in under 200 ms.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DB = Path(tempfile.mkdtemp()) / "bench.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

ROUNDS = 5
FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", re.S)
FORM = re.compile(r"<form\b.*?</form>", re.S)


def most_fields(html: str) -> int:
    return max((len(FIELD.findall(form)) for form in FORM.findall(html)), default=0)


def measure(client: Client, url: str) -> tuple[int, float, int, int]:
    client.get(url)  # warm-up: templates, the compiled cache
    times = []
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return len(response.content), statistics.median(times) * 1000, len(queries), most_fields(html)


def main() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    call_command("load_policy", verbosity=0)
    from policies import catalog, services
    from policies.models import PolicyVersion

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
    client = Client()
    client.force_login(user)
    slug = "claude-code"
    ref = catalog.version_in_effect(slug)
    published = PolicyVersion.objects.get(pk=ref.pk)
    draft = services.version_copy(version=published, by=user)
    rows = [
        ("published " + published.version_id, published),
        ("draft of " + published.version_id, draft),
    ]
    print(f"{'page':30} {'rules':>5} {'KB':>8} {'ms':>8} {'queries':>8} {'fields':>7}")
    for label, version in rows:
        url = reverse("admin:policies_policyversion_change", args=[version.pk])
        size, ms, queries, fields = measure(client, url)
        rules = version.rules.count()
        print(f"{label:30} {rules:5} {size / 1024:8.1f} {ms:8.1f} {queries:8} {fields:7}")
    key = draft.rules.order_by("priority", "key").values_list("key", flat=True)[5]
    row_url = reverse("admin:policies_rule_row", args=[draft.pk, key])
    form = client.get(row_url).content.decode()
    post = dict(_form_values(form))
    post["reason"] = post.get("reason", "") + " (edited)"
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.post(row_url, post, headers={"HX-Request": "true"})
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.content[:2000]
        assert b'id="authoring"' in response.content, response.content[:3000]
    print(
        "save one row of the draft's grid, htmx (checks and scenarios re-run): "
        f"{statistics.median(times) * 1000:.1f} ms, {len(response.content) / 1024:.1f} KB"
    )
    # The same row's situation page, and a save from it (the situation comes back re-checked).
    situation = reverse("admin:policies_rule_situation", args=[draft.pk, key])
    size, ms, queries, fields = measure(client, situation)
    print(f"{'situation of ' + key:30} {'':5} {size / 1024:8.1f} {ms:8.1f} {queries:8} {fields:7}")
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.post(f"{row_url}?situation={key}", post, headers={"HX-Request": "true"})
        times.append(time.perf_counter() - start)
        assert b'id="situation"' in response.content, response.content[:3000]
    print(
        "save one rule from its situation, htmx (checks and scenarios re-run): "
        f"{statistics.median(times) * 1000:.1f} ms, {len(response.content) / 1024:.1f} KB"
    )


def _form_values(html: str) -> list[tuple[str, str]]:
    html = FORM.findall(html)[-1]
    """What the row's form would post unchanged: checked boxes, selected options, text."""
    values: list[tuple[str, str]] = []
    for tag in re.findall(r"<input\b[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name:
            continue
        if kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag:
            continue
        values.append((name.group(1), value.group(1) if value else ""))
    for name, body in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        for value in re.findall(r'<option value="([^"]*)"[^>]*selected', body):
            values.append((name, value))
    for name, body in re.findall(
        r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
    ):
        values.append((name, _unescape(body.strip("\n"))))
    return values


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


if __name__ == "__main__":
    main()
