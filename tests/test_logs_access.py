"""gunicorn's access log (wizard/logs.py, RedactingGunicornLogger) never holds a result token or
a revoke secret: not in request lines, and not in the Referer that a saved result's pages send
with their CSS, JS and forms."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from bench import load
from policies import analysis
from wizard.logs import RedactingGunicornLogger

STATIC = ["/static/css/wizard.css", "/static/js/wizard.js", "/static/js/htmx.min.js"]


def atoms_for(headers: dict[str, str], path: str = "/static/css/wizard.css") -> dict[str, object]:
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    response = SimpleNamespace(status="200 OK", headers=[("Location", path)], sent=10)
    request = SimpleNamespace(headers=list(headers.items()))
    logger = RedactingGunicornLogger.__new__(RedactingGunicornLogger)
    return logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=5))


def test_a_referer_with_a_revoke_secret_is_dropped_from_every_field_that_holds_it():
    referer = "https://wizard.example/r/abcdEFGH1234abcdEFGH1234abcdEF/revoke/s3cr3t-s3cr3t/"

    atoms = atoms_for({"Referer": referer})

    assert atoms["f"] == "-" and atoms["{referer}i"] == "-" and atoms["{http_referer}e"] == "-"
    assert all("s3cr3t" not in str(value) for value in atoms.values())


def test_other_referers_and_secrets_in_other_fields_are_kept_or_redacted():
    token = "abcdEFGH1234abcdEFGH1234abcdEF"
    atoms = atoms_for({"Referer": "https://wizard.example/claude-code/"}, path=f"/r/{token}/")

    assert atoms["f"] == "https://wizard.example/claude-code/"
    assert atoms["r"] == "GET /r/[redacted]/ HTTP/1.1"
    assert atoms["{location}o"] == "/r/[redacted]/"  # response headers too
    assert all(token not in str(value) for value in atoms.values())


def test_a_real_gunicorn_access_log_holds_no_token_or_secret_after_a_walk(served_database):
    with load.Server(served_database, workers=1) as server:
        version = load.version_in_effect(server.port, load.SLUG)
        answers = dict(next(iter(analysis.reachable_answer_sets(version))))
        browser = load.Browser(server.port, timeout=10)
        status, _, body = browser.request(
            "POST",
            f"/api/v1/policies/{load.SLUG}/evaluate",
            json_body={"answers": answers, "save": True},
        )
        assert status == 200, body[:300]
        saved = load.json.loads(body)
        result_url, revoke_url = saved["result_url"], saved["revoke_url"]
        token = urlsplit(result_url).path.split("/")[2]
        secret = urlsplit(revoke_url).path.split("/")[4]

        # What a browser does on the result and revoke pages (Referrer-Policy: same-origin).
        assert browser.request("GET", urlsplit(result_url).path)[0] == 200
        for path in STATIC:
            assert browser.request("GET", path, headers={"Referer": result_url})[0] == 200
        assert browser.request("GET", urlsplit(revoke_url).path)[0] == 200
        for path in STATIC:
            assert browser.request("GET", path, headers={"Referer": revoke_url})[0] == 200
        revoked, _, _ = browser.request(
            "POST",
            urlsplit(revoke_url).path,
            form={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": revoke_url},
        )
        assert revoked == 200
        assert browser.request("GET", urlsplit(result_url).path)[0] == 410
        ordinary = f"http://127.0.0.1:{server.port}/{load.SLUG}/"
        browser.request("GET", STATIC[0], headers={"Referer": ordinary})
        browser.close()
        time.sleep(0.1)  # the worker writes its access line after the response
        log = server.log_path.read_text()

    access = [line for line in log.splitlines() if re.search(r'" \d{3} ', line)]
    assert len(access) >= 12, log[-2000:]
    assert token not in log and secret not in log
    assert "/r/[redacted]/revoke/[redacted]/" in log  # the request lines, redacted
    static_lines = [line for line in access if "/static/" in line]
    assert sum('"-"' in line for line in static_lines) >= 2 * len(STATIC)  # referers dropped
    assert ordinary in log  # an ordinary referer stays
