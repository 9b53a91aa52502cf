"""Logging that never records what a person answered or the secrets in result links.

Answers travel in POST bodies, which nothing here logs. Result tokens and revoke secrets travel in
URLs (`/r/<token>/`, `/r/<token>/revoke/<secret>/`, `/api/v1/results/<token>`), which Django's
request logger and gunicorn's access log would otherwise write out.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

SECRET_IN_PATH = re.compile(r"(/(?:r|results)/)[A-Za-z0-9_-]{8,}((?:/revoke/)[A-Za-z0-9_-]+)?")


def redact(text: str) -> str:
    return SECRET_IN_PATH.sub(
        lambda m: m.group(1) + "[redacted]" + ("/revoke/[redacted]" if m.group(2) else ""), text
    )


class RedactSecrets(logging.Filter):
    """A filter for Django's handlers: rewrites the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            record.request_path = redact(request.path)
        return True


# Where gunicorn's atoms carry the Referer header: the %(f)s field, %({referer}i)s and
# %({http_referer}e)s.
REFERER_ATOMS = frozenset({"f", "{referer}i", "{http_referer}e"})


def _may_carry_a_secret(text: str) -> bool:
    # A cheap test first: the pattern needs one of these, and most atoms have neither.
    return "/r/" in text or "/results/" in text


class RedactingGunicornLogger(Logger):
    """gunicorn's access log with the secrets of result URLs blanked out, in every field a log
    format can name (the request line, paths, request and response headers, the environment).
    A Referer that carries one is dropped whole ("-"): the pages of a saved result send their
    own URL as the Referer of their CSS, JS and forms (Referrer-Policy: same-origin)."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if not isinstance(value, str) or not _may_carry_a_secret(value):
                continue
            redacted = redact(value)
            if redacted != value:
                atoms[key] = "-" if key in REFERER_ATOMS else redacted
        return atoms
