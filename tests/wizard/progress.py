"""The wizard's progress cookie in tests: read what the views stored, or plant a value (tampered
or not) as a browser could send it back, signed with the project's key."""

from __future__ import annotations

from typing import Any

from django.test import Client

from wizard import cookie_state


def stored(client: Client, slug: str = "pets") -> Any:
    """The state in the client's cookie for `slug`, or None once the views have deleted it."""
    morsel = client.cookies.get(cookie_state.cookie_name(slug))
    return cookie_state.decode(slug, morsel.value) if morsel is not None else None


def plant(client: Client, state: Any, slug: str = "pets") -> None:
    client.cookies[cookie_state.cookie_name(slug)] = cookie_state.encode(slug, state)
