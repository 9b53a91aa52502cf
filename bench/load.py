"""Load and soak test: concurrent browsers walking the whole wizard against gunicorn + PostgreSQL.

Each client is a thread with its own connection and cookie jar. A walk is what a person does:
open the policy page, press "Start now", answer every question the server asks (the answers
come from a complete answer set picked at random among those the version in effect can reach,
`analysis.reachable_answer_sets`), open "check your answers", save the result and open the
saved page. Clients walk again and again until the time or the request budget runs out.

Afterwards every saved result is read back (its share page and its JSON download) and its
verdict compared with a direct `engine.evaluate` of the answers; the number of rows in the
results table must equal the number of saves. Any 5xx, unexpected status, wrong redirect or
exception is an error.

Everything stays on 127.0.0.1: the server binds there, and the database is a fresh PostgreSQL
database (`wizard_load_<pid>`) created for the run and dropped afterwards. Bounded: a fixed
number of seconds and a cap on requests.

Run: make load (or .venv/bin/python bench/load.py [--clients 50] [--seconds 60]). Exits 1 when
there were errors or lost results. tests/test_load.py runs a short version in the test suite.
This module also holds the helpers that bench/http_bench.py uses (server, databases, cookie client).
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
# Rate limits exist to stop one address hammering the API and result saving; every client here
# is 127.0.0.1, so they are switched off for the server under test (and only there).
NO_RATE_LIMITS = {
    "WIZARD_RATE_LIMIT_API": "",
    "WIZARD_RATE_LIMIT_SAVE": "",
    "WIZARD_RATE_LIMIT_LOGIN": "",
}


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


def request_once(
    port: int, method: str, path: str, *, timeout: float = 30, **kwargs: object
) -> tuple[int, dict[str, str], bytes]:
    return Browser(port, timeout=timeout).request(method, path, **kwargs)  # type: ignore[arg-type]


class Browser:
    def __init__(self, port: int, *, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)

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
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            # A stale keep-alive connection, or the server went away: start afresh next time.
            self.connection.close()
            raise
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
    saved: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    walks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_slot(self) -> None:
        with self.lock:
            if self.requests >= self.max_requests or time.monotonic() >= self.deadline:
                raise BudgetSpent
            self.requests += 1

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            self.error_count += 1
            if len(self.errors) < 20:
                self.errors.append(message)


def expect(
    browser: Browser,
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
        got, headers, body = browser.request(method, path, **kwargs)  # type: ignore[arg-type]
    except (http.client.HTTPException, OSError) as exc:
        raise WalkError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
    recorder.record(kind, time.perf_counter() - start)
    if got != status:
        raise WalkError(f"{method} {path}: expected {status}, got {got}: {body[:200]!r}")
    return headers, body


def walk_wizard(browser: Browser, recorder: Recorder, slug: str, answers: Mapping[str, str]) -> str:
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
    saved = urlsplit(headers.get("location", "")).path
    match = re.fullmatch(r"/r/([A-Za-z0-9_-]+)/saved/", saved)
    if not match:
        raise WalkError(f"saving led to {saved!r}, not a saved-result page")
    # Stored from here on, whatever happens next: it must be readable afterwards.
    with recorder.lock:
        recorder.saved.append((match.group(1), dict(answers)))
    expect(browser, recorder, "saved", "GET", saved, 200)
    return match.group(1)


def client_loop(
    port: int, recorder: Recorder, slug: str, answer_sets: Sequence[Mapping[str, str]], seed: int
) -> None:
    rng = random.Random(seed)
    browser = Browser(port)
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


def version_in_effect(port: int, slug: str) -> engine.Version:
    """The engine's version for what the server has in effect, built from the seed file the
    database was loaded from (not from the server: the check must not trust the server)."""
    status, _, body = request_once(port, "GET", f"/api/v1/policies/{slug}")
    if status != 200:
        raise RuntimeError(f"GET /api/v1/policies/{slug}: {status} {body[:200]!r}")
    in_effect = json.loads(body)["in_effect"]
    for path in seed_files():
        document = read_document(path)
        if document.slug == slug:
            for doc_version in document.versions:
                if doc_version.id == in_effect:
                    return to_engine(slug, doc_version)
    raise RuntimeError(f"no seeded version {in_effect} of {slug}")


def check_saved(
    port: int, version: engine.Version, saved: Sequence[tuple[str, Mapping[str, str]]]
) -> list[str]:
    """Read every saved result back; a list of problems (empty when none is lost or wrong)."""

    def check_one(item: tuple[str, Mapping[str, str]]) -> str | None:
        token, answers = item
        browser = Browser(port)
        try:
            status, _, page = browser.request("GET", f"/r/{token}/")
            if status != 200:
                return f"/r/{token}/: {status}"
            status, _, body = browser.request("GET", f"/r/{token}.json")
            if status != 200:
                return f"/r/{token}.json: {status}"
        except (http.client.HTTPException, OSError) as exc:
            return f"/r/{token}/: {type(exc).__name__}: {exc}"
        finally:
            browser.close()
        snapshot = json.loads(body)
        expected = engine.evaluate(version, dict(answers))
        verdict = expected.verdict.key if expected.verdict else None
        if snapshot.get("verdict") != verdict:
            return f"/r/{token}.json: verdict {snapshot.get('verdict')!r}, engine says {verdict!r}"
        if snapshot.get("answers") != dict(expected.answers):
            return f"/r/{token}.json: answers {snapshot.get('answers')!r}, sent {dict(answers)!r}"
        if expected.verdict and html.escape(expected.verdict.title).encode() not in page:
            return f"/r/{token}/: the page does not show the verdict {expected.verdict.title!r}"
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [problem for problem in pool.map(check_one, saved) if problem]


def count_results(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as connection:
        row = connection.execute("SELECT count(*) FROM wizard_result").fetchone()
    return int(row[0]) if row else 0


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
    server_log: str = ""  # the end of gunicorn's log, kept only when something went wrong

    @property
    def all_latencies(self) -> list[float]:
        return [s for kind in self.latencies.values() for s in kind]

    @property
    def ok(self) -> bool:
        return not self.error_count and not self.problems and self.rows == self.saved

    def table(self) -> str:
        lines = [
            f"{self.clients} clients for {self.seconds:.1f} s: {self.requests} requests "
            f"({self.requests / self.seconds:.1f}/s), {self.walks} whole walks, "
            f"{self.error_count} errors",
            f"{'request':10} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}",
        ]
        for kind, values in [*self.latencies.items(), ("all", self.all_latencies)]:
            lines.append(
                f"{kind:10} {len(values):>7} {percentile(values, 50):>8.1f} "
                f"{percentile(values, 99):>8.1f} {max(values, default=0) * 1000:>8.1f}"
            )
        lines.append(
            f"saved results: {self.saved} by the clients, {self.rows} rows in the database, "
            f"{self.saved - len(self.problems)} read back and matching the engine, "
            f"{len(self.problems)} lost or wrong"
        )
        lines += [f"error: {e}" for e in self.errors] + [f"lost: {p}" for p in self.problems[:20]]
        if self.server_log:
            lines += ["the end of gunicorn's log:", self.server_log]
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
    slug: str = SLUG,
    seed: int = 0,
    admin_url: str = PG_ADMIN_URL,
    database: str | None = None,
) -> LoadReport:
    name = database or f"wizard_load_{os.getpid()}"
    with postgres_database(name, admin_url) as database_url:
        prepare_database(database_url)
        with Server(database_url, workers=workers) as server:
            version = version_in_effect(server.port, slug)
            answer_sets = list(analysis.reachable_answer_sets(version))
            recorder = Recorder(max_requests=max_requests, deadline=time.monotonic() + seconds)
            started = time.monotonic()
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(server.port, recorder, slug, answer_sets, seed * 1000 + i),
                    daemon=True,
                )
                for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                # Bounded: a walk in flight at the deadline finishes its current request, which
                # has its own timeout.
                thread.join(timeout=seconds + 60)
            elapsed = time.monotonic() - started
            problems = check_saved(server.port, version, recorder.saved)
            server_log = server.log_tail(40) if recorder.error_count or problems else ""
        rows = count_results(database_url)
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
        server_log=server_log,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=500_000, help="a cap on requests")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--admin-url", default=PG_ADMIN_URL, help="PostgreSQL to create the run's database in"
    )
    args = parser.parse_args()
    if not postgres_reachable(
        urlsplit(args.admin_url).hostname or HOST, urlsplit(args.admin_url).port or 5432
    ):
        print(f"PostgreSQL is not reachable at {args.admin_url}; start it first.", file=sys.stderr)
        return 2
    report = run_load(
        clients=args.clients,
        seconds=args.seconds,
        max_requests=args.max_requests,
        workers=args.workers,
        seed=args.seed,
        admin_url=args.admin_url,
    )
    print(report.table())
    print("OK: no errors, no lost results" if report.ok else "FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
