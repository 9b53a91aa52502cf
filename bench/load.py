"""Load and soak test: concurrent browsers walking the whole wizard against two gunicorn servers
that share one PostgreSQL database and one Redis, as two hosts behind a load balancer would.

Each client is a thread with a cookie jar and one connection to each server, and it alternates
between the servers on every request: a page comes from one server and the form it holds is
posted to the other, and the result saved on one is opened at once on the other. A walk is what
a person does: open the policy page, press "Start now", answer every question the server asks
(the answers come from a complete answer set picked at random among those the version in effect
can reach, `analysis.reachable_answer_sets`), open "check your answers", save the result and
open the saved page. Clients walk again and again until the time or the request budget runs out.

Afterwards every saved result is read back from every server (its share page and its JSON
download) and its verdict compared with a direct `engine.evaluate` of the answers; the number of
rows in the results table must equal the number of saves, and the save counter the servers keep
in Redis (a save limit set far above what the run can reach, so it counts and never refuses)
must have counted every save, whichever server took it. Any 5xx, unexpected status, wrong
redirect or exception is an error.

Everything stays on 127.0.0.1: the servers bind there, the database is a fresh PostgreSQL
database (`wizard_load_<pid>`) created for the run and dropped afterwards, and the servers' cache
lives in Redis under a key prefix of the run's own (`wizard_load_<pid>_<random>`), whose keys are
deleted afterwards. Bounded: a fixed number of seconds and a cap on requests.

Run: make load (or .venv/bin/python bench/load.py [--clients 50] [--seconds 60]
[--redis-url redis://127.0.0.1:6379/0] [--servers 2]). `--servers 1` runs one server with its
local-memory cache and no Redis, as before. Exits 1 when there were errors or lost results, 2
when PostgreSQL or Redis does not answer. tests/test_load.py runs a short version in the test
suite. This module also holds the helpers that bench/http_bench.py uses (server, databases,
cookie client).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wizard.settings")

import django  # noqa: E402
from django.apps import apps  # noqa: E402

if not apps.ready:  # under pytest, Django is already set up
    django.setup()

from policies import analysis, engine  # noqa: E402
from policies.loading import read_document, seed_files, to_engine  # noqa: E402

SLUG = "claude-code"
HOST = "127.0.0.1"  # loopback only, always
PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Rate limits exist to stop one address hammering the API and result saving; every client here
# is 127.0.0.1, so they are switched off for the server under test (and only there).
NO_RATE_LIMITS = {
    "WIZARD_RATE_LIMIT_API": "",
    "WIZARD_RATE_LIMIT_SAVE": "",
    "WIZARD_RATE_LIMIT_LOGIN": "",
}


# With two servers the save limit stays on, counted in the shared Redis as in production, at a rate
# no run reaches: every save costs the servers the same Redis round trips, and the count of saves
# Redis holds afterwards shows that both servers counted into one counter.
COUNTED_NOT_LIMITING = {"WIZARD_RATE_LIMIT_SAVE": "100000000/h"}
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


# --- databases ------------------------------------------------------------------------------------


def postgres_reachable(host: str = HOST, port: int = 5432, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def postgres_database(name: str, admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A new, empty PostgreSQL database for one run, dropped afterwards (whatever happens).
    Yields its URL. Refuses names that are not plainly ours, so it can never drop another."""
    import psycopg
    from psycopg import sql

    if not re.fullmatch(r"wizard_(load|bench)_[0-9a-z_]+", name):
        raise ValueError(f"refusing to create or drop database {name!r}")
    parts = urlsplit(admin_url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"PostgreSQL must be on this machine, not {parts.hostname!r}")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="wizard-bench-"))
    try:
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def redis_unavailable(url: str = REDIS_URL) -> str | None:
    """None when Redis answers PING at `url` within a second, else why not."""
    import redis

    if urlsplit(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        return f"Redis must be on this machine, not {urlsplit(url).hostname!r}"
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis does not answer at {url} ({type(exc).__name__}: {exc})"
    finally:
        client.close()
    return None


def redis_keys(url: str, prefix: str) -> dict[str, str]:
    """The keys Django's cache wrote under `prefix` ("<prefix>:<version>:<key>"), with values."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))[:10_000]
        values = client.mget(keys) if keys else []
        return {
            key.decode(): value.decode() if isinstance(value, bytes) else str(value)
            for key, value in zip(keys, values, strict=True)
            if value is not None
        }
    finally:
        client.close()


@contextlib.contextmanager
def redis_prefix(url: str, prefix: str | None = None) -> Iterator[str]:
    """A cache key prefix for one run in a shared Redis; its keys (and only its keys: the database
    may hold other runs' and other people's) are deleted afterwards, whatever happens."""
    import redis

    prefix = prefix or f"wizard_load_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    if not re.fullmatch(r"[0-9A-Za-z_-]{8,80}", prefix):
        raise ValueError(f"refusing Redis key prefix {prefix!r}")
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        try:
            for _ in range(100):  # bounded: 100 x 1,000 keys is far more than a run writes
                keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))[:1000]
                if not keys:
                    break
                client.delete(*keys)
        finally:
            client.close()


def redis_env(url: str, prefix: str) -> dict[str, str]:
    """What a server needs to keep its cache (rate limits, the publish generation) in Redis."""
    return {
        "DJANGO_CACHE_BACKEND": REDIS_CACHE,
        "DJANGO_CACHE_LOCATION": url,
        "DJANGO_CACHE_KEY_PREFIX": prefix,
        **COUNTED_NOT_LIMITING,
    }


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, **NO_RATE_LIMITS, **extra}
    env["DATABASE_URL"] = database_url
    env["DJANGO_SETTINGS_MODULE"] = "wizard.settings"
    env.pop("DJANGO_DEBUG", None)  # measure the app as deployed, never with debug pages
    return env


def prepare_database(database_url: str, timeout: float = 300) -> None:
    """Migrate and load the seeded policies, as `make setup` does, into that database (in one
    process: each start of Django costs about a second)."""
    script = (
        "import django; django.setup(); "
        "from django.core.management import call_command; "
        "call_command('migrate', interactive=False, verbosity=0); "
        "call_command('load_policy', if_absent=True)"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=server_env(database_url),
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
    )


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """gunicorn (wizard/gunicorn_conf.py) on 127.0.0.1, in its own process group; always
    stopped on exit, within bounded time."""

    def __init__(self, database_url: str, *, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.env = server_env(database_url, **env)
        self.workers_count = workers
        self.log_path = Path(tempfile.mkstemp(prefix="wizard-gunicorn-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "gunicorn"),
                    *("-c", "wizard/gunicorn_conf.py"),
                    *("--bind", f"{HOST}:{self.port}"),
                    *("--workers", str(self.workers_count)),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_ready(timeout=60)
        except BaseException:
            self.stop()
            self.log_path.unlink(missing_ok=True)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                status, _, _ = request_once(self.port, "GET", "/healthz", timeout=2)
                if status == 200 and len(self.workers()) == self.workers_count:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"gunicorn did not answer /healthz within {timeout} s:\n{self.log_tail()}"
        )

    def workers(self) -> list[int]:
        """The worker processes' ids (children of the gunicorn master)."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self, timeout: float = 15) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        # The process group is the one gunicorn was started in above: the master and its workers.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)

    def log_count(self, needles: Sequence[str]) -> int:
        """How many lines of the log hold any of `needles`."""
        try:
            with self.log_path.open(errors="replace") as log:
                return sum(1 for line in log if any(needle in line for needle in needles))
        except OSError:
            return 0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


# --- a browser: one connection, one cookie jar ----------------------------------------------------


# A connection idle longer than this is opened anew before the next request: half gunicorn's
# default `keepalive` (2 s; wizard/gunicorn_conf.py keeps it), so the server never closes one
# under a request.
REOPEN_AFTER_IDLE = 1.0


def request_once(
    port: int, method: str, path: str, *, timeout: float = 30, **kwargs: object
) -> tuple[int, dict[str, str], bytes]:
    return Browser(port, timeout=timeout).request(method, path, **kwargs)  # type: ignore[arg-type]


class Browser:
    def __init__(
        self, port: int, *, timeout: float = 30, cookies: dict[str, str] | None = None
    ) -> None:
        self.port = port
        self.timeout = timeout
        # Cookies are per host, not per port, as in a browser: two Browsers on two ports of
        # 127.0.0.1 may share one jar.
        self.cookies: dict[str, str] = {} if cookies is None else cookies
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.last_used = 0.0

    def request(
        self,
        method: str,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        json_body: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Host": f"{HOST}:{self.port}", **(headers or {})}
        body: bytes | None = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if time.monotonic() - self.last_used > REOPEN_AFTER_IDLE:
            # gunicorn closes a keep-alive connection idle for its `keepalive` (2 s), and a
            # request sent as it does so is lost: after a pause (the other server was slow to
            # answer), open a new connection, as a browser would.
            self.connection.close()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            # The server went away: start afresh next time.
            self.connection.close()
            raise
        finally:
            self.last_used = time.monotonic()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def close(self) -> None:
        self.connection.close()


class Alternating:
    """One person's browser in front of several servers (as behind a load balancer that spreads
    requests without sticky sessions): one cookie jar, a connection to each server, and each
    request sent to the next server in turn. `last_port` is the server that answered last."""

    def __init__(self, ports: Sequence[int], *, start: int = 0, timeout: float = 30) -> None:
        self.cookies: dict[str, str] = {}
        self.browsers = [Browser(port, timeout=timeout, cookies=self.cookies) for port in ports]
        self.turn = start % len(self.browsers)
        self.last_port = self.browsers[self.turn].port

    def request(
        self, method: str, path: str, **kwargs: object
    ) -> tuple[int, dict[str, str], bytes]:
        browser = self.browsers[self.turn]
        self.turn = (self.turn + 1) % len(self.browsers)
        self.last_port = browser.port
        return browser.request(method, path, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()


# --- the wizard, walked as a browser walks it -----------------------------------------------------


class WalkError(Exception):
    """The server answered something a person would see as broken (or not at all)."""


class BudgetSpent(Exception):
    """The request cap was reached mid-walk; not an error."""


@dataclass
class Recorder:
    """Shared by all clients: latencies per kind of request, errors, saved results, the cap."""

    max_requests: int
    deadline: float
    requests: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    # (token, answers, the port of the server that saved it)
    saved: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    walks: int = 0
    per_server: dict[int, int] = field(default_factory=dict)  # port -> requests answered
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_slot(self) -> None:
        with self.lock:
            if self.requests >= self.max_requests or time.monotonic() >= self.deadline:
                raise BudgetSpent
            self.requests += 1

    def record(self, kind: str, seconds: float, port: int) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            self.per_server[port] = self.per_server.get(port, 0) + 1

    def error(self, message: str) -> None:
        with self.lock:
            self.error_count += 1
            if len(self.errors) < 20:
                self.errors.append(message)


def expect(
    browser: Alternating,
    recorder: Recorder,
    kind: str,
    method: str,
    path: str,
    status: int,
    **kwargs: object,
) -> tuple[dict[str, str], bytes]:
    recorder.take_slot()
    start = time.perf_counter()
    try:
        got, headers, body = browser.request(method, path, **kwargs)
    except (http.client.HTTPException, OSError) as exc:
        raise WalkError(
            f"{method} {path} (port {browser.last_port}): {type(exc).__name__}: {exc}"
        ) from None
    recorder.record(kind, time.perf_counter() - start, browser.last_port)
    if got != status:
        raise WalkError(
            f"{method} {path} (port {browser.last_port}): expected {status}, got {got}: "
            f"{body[:200]!r}"
        )
    return headers, body


def walk_wizard(
    browser: Alternating, recorder: Recorder, slug: str, answers: Mapping[str, str]
) -> str:
    """One whole walk; returns the saved result's token (also recorded in `recorder.saved`)."""
    base = f"/{slug}/"
    expect(browser, recorder, "page", "GET", base, 200)
    csrf = browser.cookies.get("csrftoken")
    if not csrf:
        raise WalkError(f"GET {base}: no csrftoken cookie")
    headers, _ = expect(
        browser, recorder, "start", "POST", base, 302, form={"csrfmiddlewaretoken": csrf}
    )
    location = urlsplit(headers.get("location", "")).path
    asked: list[str] = []
    question_prefix = f"{base}questions/"
    while location.startswith(question_prefix):
        key = location[len(question_prefix) :].strip("/")
        if key not in answers:
            raise WalkError(f"the server asked {key!r} after {asked}, off the expected path")
        if key in asked:
            raise WalkError(f"the server asked {key!r} twice")
        asked.append(key)
        expect(browser, recorder, "question", "GET", location, 200)
        headers, _ = expect(
            browser,
            recorder,
            "answer",
            "POST",
            location,
            302,
            form={"csrfmiddlewaretoken": csrf, key: answers[key]},
        )
        location = urlsplit(headers.get("location", "")).path
    if location != f"{base}check/":
        raise WalkError(f"after {asked} the server sent {location!r}, not the check page")
    if set(asked) != set(answers):
        raise WalkError(f"asked {asked}, expected every one of {sorted(answers)}")
    expect(browser, recorder, "check", "GET", location, 200)
    headers, _ = expect(
        browser,
        recorder,
        "save",
        "POST",
        f"{base}result/",
        302,
        form={"csrfmiddlewaretoken": csrf, "expiry": "0"},
    )
    saved_on = browser.last_port
    saved = urlsplit(headers.get("location", "")).path
    match = re.fullmatch(r"/r/([A-Za-z0-9_-]+)/saved/", saved)
    if not match:
        raise WalkError(f"saving led to {saved!r}, not a saved-result page")
    # Stored from here on, whatever happens next: it must be readable afterwards.
    with recorder.lock:
        recorder.saved.append((match.group(1), dict(answers), saved_on))
    # With two servers, the next request goes to the one that did not save it.
    expect(browser, recorder, "saved", "GET", saved, 200)
    return match.group(1)


def client_loop(
    ports: Sequence[int],
    recorder: Recorder,
    slug: str,
    answer_sets: Sequence[Mapping[str, str]],
    seed: int,
) -> None:
    rng = random.Random(seed)
    # Half the clients start on each server, then every request goes to the next one.
    browser = Alternating(ports, start=seed)
    try:
        while True:
            answers = dict(rng.choice(answer_sets))
            # A new person each time: a fresh cookie jar, so sessions are created under load too.
            browser.cookies.clear()
            try:
                walk_wizard(browser, recorder, slug, answers)
            except BudgetSpent:
                return
            except WalkError as exc:
                recorder.error(str(exc))
                continue
            except Exception as exc:  # anything else is a bug in the server or here: count it
                recorder.error(f"{type(exc).__name__}: {exc}")
                continue
            with recorder.lock:
                recorder.walks += 1
    finally:
        browser.close()


# --- the run and the check afterwards -------------------------------------------------------------


def version_in_effect(port: int | Sequence[int], slug: str) -> engine.Version:
    """The engine's version for what the server (every one of them) has in effect, built from
    the seed file the database was loaded from (not from the server: the check must not trust
    the server)."""
    seen = set()
    for one in [port] if isinstance(port, int) else port:
        status, _, body = request_once(one, "GET", f"/api/v1/policies/{slug}")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/policies/{slug}: {status} {body[:200]!r}")
        seen.add(json.loads(body)["in_effect"])
    if len(seen) != 1:
        raise RuntimeError(f"the servers disagree on the version in effect: {sorted(seen)}")
    in_effect = seen.pop()
    for path in seed_files():
        document = read_document(path)
        if document.slug == slug:
            for doc_version in document.versions:
                if doc_version.id == in_effect:
                    return to_engine(slug, doc_version)
    raise RuntimeError(f"no seeded version {in_effect} of {slug}")


def check_saved(
    ports: Sequence[int],
    version: engine.Version,
    saved: Sequence[tuple[str, Mapping[str, str], int]],
) -> list[str]:
    """Read every saved result back from every server; a list of problems (empty when none is
    lost or wrong, and every server shows each result as the one that saved it does)."""

    def read(port: int, token: str) -> tuple[bytes, bytes] | str:
        browser = Browser(port)
        try:
            status, _, page = browser.request("GET", f"/r/{token}/")
            if status != 200:
                return f"/r/{token}/ on port {port}: {status}"
            status, _, body = browser.request("GET", f"/r/{token}.json")
            if status != 200:
                return f"/r/{token}.json on port {port}: {status}"
        except (http.client.HTTPException, OSError) as exc:
            return f"/r/{token}/ on port {port}: {type(exc).__name__}: {exc}"
        finally:
            browser.close()
        return page, body

    def check_one(item: tuple[str, Mapping[str, str], int]) -> str | None:
        token, answers, saved_on = item
        expected = engine.evaluate(version, dict(answers))
        verdict = expected.verdict.key if expected.verdict else None
        bodies: dict[int, bytes] = {}
        # The servers that did not save it first: they must see what the other one stored.
        for port in sorted(ports, key=lambda port: port == saved_on):
            got = read(port, token)
            if isinstance(got, str):
                return got
            page, body = got
            snapshot = json.loads(body)
            where = f"/r/{token}.json on port {port} (saved on {saved_on})"
            if snapshot.get("verdict") != verdict:
                return f"{where}: verdict {snapshot.get('verdict')!r}, engine says {verdict!r}"
            if snapshot.get("answers") != dict(expected.answers):
                return f"{where}: answers {snapshot.get('answers')!r}, sent {dict(answers)!r}"
            if expected.verdict and html.escape(expected.verdict.title).encode() not in page:
                return f"/r/{token}/ on port {port}: no verdict {expected.verdict.title!r}"
            # The same download from every server, but for its links (absolute, to the Host
            # each was asked by).
            bodies[port] = body.replace(f"//{HOST}:{port}/".encode(), b"//server/")
        if len(set(bodies.values())) > 1:
            return f"/r/{token}.json differs between the servers: {sorted(bodies)}"
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [problem for problem in pool.map(check_one, saved) if problem]


def count_results(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as connection:
        row = connection.execute("SELECT count(*) FROM wizard_result").fetchone()
    return int(row[0]) if row else 0


# What the servers log when the cache fails (policies.catalog, wizard.middleware): a run that logged
# one did not share Redis throughout.
CACHE_FAILED = ("The cache failed", "Rate limits are not applied")


def saves_counted(redis_url: str, prefix: str) -> int:
    """The saves the servers counted in Redis under the run's prefix (django-ratelimit's
    counters, "<prefix>:1:rl:<hash>"; only the save limit is on, so they are all saves)."""
    return sum(int(value) for key, value in redis_keys(redis_url, prefix).items() if ":rl:" in key)


@dataclass
class LoadReport:
    clients: int
    seconds: float
    requests: int
    walks: int
    errors: list[str]
    error_count: int
    latencies: dict[str, list[float]]
    saved: int
    problems: list[str]
    rows: int
    ports: list[int] = field(default_factory=list)
    per_server: dict[int, int] = field(default_factory=dict)  # port -> requests answered
    saved_per_server: dict[int, int] = field(default_factory=dict)  # port -> results saved
    redis_saves: int | None = None  # saves counted in Redis; None without Redis
    cache_warnings: int = 0  # lines in the servers' logs saying the cache failed
    server_log: str = ""  # the end of gunicorn's log, kept only when something went wrong

    @property
    def all_latencies(self) -> list[float]:
        return [s for kind in self.latencies.values() for s in kind]

    @property
    def ok(self) -> bool:
        return (
            not self.error_count
            and not self.problems
            and self.rows == self.saved
            and all(self.per_server.get(port) for port in self.ports)
            and (self.redis_saves is None or self.redis_saves == self.saved)
            and not self.cache_warnings
        )

    def table(self) -> str:
        servers = len(self.ports)
        where = f"{servers} servers sharing PostgreSQL and Redis" if servers > 1 else "one server"
        lines = [
            f"{self.clients} clients for {self.seconds:.1f} s against {where}: "
            f"{self.requests} requests ({self.requests / self.seconds:.1f}/s), "
            f"{self.walks} whole walks, {self.error_count} errors",
        ]
        if servers > 1:
            lines.append(
                "requests answered per server: "
                + ", ".join(f"port {port}: {self.per_server.get(port, 0)}" for port in self.ports)
                + "; results saved per server: "
                + ", ".join(
                    f"port {port}: {self.saved_per_server.get(port, 0)}" for port in self.ports
                )
            )
        lines.append(f"{'request':10} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for kind, values in [*self.latencies.items(), ("all", self.all_latencies)]:
            lines.append(
                f"{kind:10} {len(values):>7} {percentile(values, 50):>8.1f} "
                f"{percentile(values, 99):>8.1f} {max(values, default=0) * 1000:>8.1f}"
            )
        read_from = "from each server" if servers > 1 else ""
        lines.append(
            f"saved results: {self.saved} by the clients, {self.rows} rows in the database, "
            f"{self.saved - len(self.problems)} read back {read_from} and matching the engine, "
            f"{len(self.problems)} lost or wrong".replace("  ", " ")
        )
        if self.redis_saves is not None:
            lines.append(
                f"Redis: {self.redis_saves} saves counted by the servers together "
                f"(of {self.saved}), {self.cache_warnings} cache failures logged"
            )
        lines += [f"error: {e}" for e in self.errors] + [f"lost: {p}" for p in self.problems[:20]]
        if self.server_log:
            lines += ["the end of gunicorn's logs:", self.server_log]
        return "\n".join(lines)


def percentile(values: Sequence[float], pct: float) -> float:
    """In milliseconds."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1] * 1000


def run_load(
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    workers: int = 2,
    servers: int = 2,
    slug: str = SLUG,
    seed: int = 0,
    admin_url: str = PG_ADMIN_URL,
    database: str | None = None,
    redis_url: str | None = REDIS_URL,
    key_prefix: str | None = None,
) -> LoadReport:
    """`servers` gunicorn servers of `workers` workers each on one new database; with more than
    one, `redis_url` is their shared cache (under `key_prefix`, or one made for the run)."""
    if servers < 1:
        raise ValueError("at least one server")
    if servers > 1 and not redis_url:
        raise ValueError("several servers need a shared cache: pass redis_url")
    name = database or f"wizard_load_{os.getpid()}"
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(postgres_database(name, admin_url))
        shared: dict[str, str] = {}
        prefix = ""
        if servers > 1:
            assert redis_url is not None
            prefix = stack.enter_context(redis_prefix(redis_url, key_prefix))
            shared = redis_env(redis_url, prefix)
        prepare_database(database_url)
        with contextlib.ExitStack() as running:
            # Started side by side, stopped (by `running`) whatever happens; the pool is left
            # (waiting for every start) before the stack stops them.
            started_servers = [
                Server(database_url, workers=workers, **shared) for _ in range(servers)
            ]
            with ThreadPoolExecutor(max_workers=servers) as pool:
                live = list(pool.map(running.enter_context, started_servers))
            ports = [server.port for server in live]
            version = version_in_effect(ports, slug)
            answer_sets = list(analysis.reachable_answer_sets(version))
            recorder = Recorder(max_requests=max_requests, deadline=time.monotonic() + seconds)
            started = time.monotonic()
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(ports, recorder, slug, answer_sets, seed * 1000 + i),
                    daemon=True,
                )
                for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            # Bounded: a walk in flight at the deadline finishes its current request, which has
            # its own timeout; all of them together get a minute past the run's end.
            joined_by = time.monotonic() + seconds + 60
            for thread in threads:
                thread.join(timeout=max(0.0, joined_by - time.monotonic()))
            elapsed = time.monotonic() - started
            problems = check_saved(ports, version, recorder.saved)
            cache_warnings = sum(server.log_count(CACHE_FAILED) for server in live)
            server_log = ""
            if recorder.error_count or problems or cache_warnings:
                server_log = "\n".join(
                    f"[port {server.port}]\n{server.log_tail(40)}" for server in live
                )
        redis_saves = saves_counted(redis_url, prefix) if redis_url and prefix else None
        rows = count_results(database_url)
    saved_per_server: dict[int, int] = {}
    for _, _, port in recorder.saved:
        saved_per_server[port] = saved_per_server.get(port, 0) + 1
    return LoadReport(
        clients=clients,
        seconds=elapsed,
        requests=recorder.requests,
        walks=recorder.walks,
        errors=recorder.errors,
        error_count=recorder.error_count,
        latencies=recorder.latencies,
        saved=len(recorder.saved),
        problems=problems,
        rows=rows,
        ports=ports,
        per_server=dict(recorder.per_server),
        saved_per_server=saved_per_server,
        redis_saves=redis_saves,
        cache_warnings=cache_warnings,
        server_log=server_log,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=500_000, help="a cap on requests")
    parser.add_argument("--servers", type=int, default=2, help="gunicorn servers (1 or more)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--admin-url", default=PG_ADMIN_URL, help="PostgreSQL to create the run's database in"
    )
    parser.add_argument(
        "--redis-url",
        default=REDIS_URL,
        help="the Redis the servers share (under a key prefix of the run's own)",
    )
    args = parser.parse_args()
    if not postgres_reachable(
        urlsplit(args.admin_url).hostname or HOST, urlsplit(args.admin_url).port or 5432
    ):
        print(f"PostgreSQL is not reachable at {args.admin_url}; start it first.", file=sys.stderr)
        return 2
    if args.servers > 1 and (reason := redis_unavailable(args.redis_url)):
        print(f"{reason}; start it first, or run --servers 1.", file=sys.stderr)
        return 2
    report = run_load(
        clients=args.clients,
        seconds=args.seconds,
        max_requests=args.max_requests,
        workers=args.workers,
        servers=args.servers,
        seed=args.seed,
        admin_url=args.admin_url,
        redis_url=args.redis_url if args.servers > 1 else None,
    )
    print(report.table())
    print("OK: no errors, no lost results" if report.ok else "FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
