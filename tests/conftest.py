import socket
import threading
import time
from types import SimpleNamespace

import pytest

from policies import catalog
from policies.loading import policy_load, read_document, seed_files


@pytest.fixture(autouse=True)
def _fresh_compiled_cache():
    # Primary keys are reused across test transactions, so a cached version (or a page or
    # response rendered for one) could leak.
    from django.core.cache import caches

    catalog.clear_cache()
    caches["rendered"].clear()
    yield
    catalog.clear_cache()


@pytest.fixture
def seeded(db):
    """Every seeded policy, loaded as `make run` loads it."""
    for path in seed_files():
        policy_load(document=read_document(path))


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate-limit counters live in the cache; each test starts with none used.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def redis_cache(settings):
    """The "default" cache, which counts rate limits, on real Redis under a key prefix of this
    test's own (removed afterwards). Skips, saying why, only when Redis does not answer; .ci/run
    starts it, so in CI these tests always run."""
    from tests import redis_cache as test_redis

    reason = test_redis.unavailable_reason()
    if reason is not None:
        pytest.skip(f"{reason}; .ci/run starts one (or set WIZARD_TEST_REDIS_URL)")
    prefix = test_redis.new_prefix()
    settings.CACHES = {
        **settings.CACHES,
        "default": test_redis.cache_settings(test_redis.REDIS_URL, prefix),
    }
    yield SimpleNamespace(url=test_redis.REDIS_URL, prefix=prefix)
    test_redis.delete_prefixed(test_redis.REDIS_URL, prefix)


@pytest.fixture
def still_rate_window(monkeypatch):
    """django-ratelimit counts in windows of the wall clock: a test whose requests straddled a
    window's end would see its count start again. Its clock stands still here."""
    import django_ratelimit.core

    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))


class BlackHole:
    """A TCP server on loopback that accepts every connection and never says a word: a database
    that hangs, rather than one that refuses."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = int(self.listener.getsockname()[1])
        self.listener.settimeout(0.05)  # so the thread notices close() promptly
        self.accepted: list[socket.socket] = []
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            self.accepted.append(connection)  # kept open, never read, never answered

    def url(self, scheme: str = "postgres") -> str:
        return f"{scheme}://wizard@127.0.0.1:{self.port}/wizard"

    def close(self) -> None:
        self.closing.set()
        self.thread.join(timeout=2)
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.fixture(scope="session")
def served_database():
    """A SQLite database file, migrated and seeded once per run, for the gunicorn servers that
    tests start (processes of their own, which cannot see pytest's test database)."""
    from bench import load

    with load.sqlite_database() as url:
        load.prepare_database(url)
        yield url
