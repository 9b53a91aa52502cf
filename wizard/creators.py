"""The results this browser created, and their revoke secrets.

The creator's browser keeps each result's revoke secret, to show it on the saved page. In the
session, on the server, not in a cookie: the secret need not travel with every request, and saving
a result writes to the database anyway.
"""

from __future__ import annotations

from django.http import HttpRequest

CREATED_RESULTS_KEY = "created_results"


def remember_created(request: HttpRequest, token: str, secret: str) -> None:
    created = request.session.get(CREATED_RESULTS_KEY)
    created = dict(created) if isinstance(created, dict) else {}
    created[token] = secret
    request.session[CREATED_RESULTS_KEY] = created


def created_secret(request: HttpRequest, token: str) -> str | None:
    created = request.session.get(CREATED_RESULTS_KEY)
    secret = created.get(token) if isinstance(created, dict) else None
    return secret if isinstance(secret, str) else None
