"""Real Redis for the cache-dependent tests (rate limits, outages, several servers).

`make test` points WIZARD_TEST_REDIS_URL at the machine's Redis, which .ci/run starts when it does
not answer. That server is shared (with other test runs, and with whoever else works on the
machine), so every test writes under a key prefix of its own and removes only its own keys: the
cache here never flushes the database, which is what Django's `RedisCache.clear()` does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache

REDIS_URL = os.environ.get("WIZARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# One prefix per test run; each test adds its own part, so parallel runs never meet.
RUN_PREFIX = f"test-{uuid.uuid4().hex[:12]}"


def unavailable_reason(url: str = REDIS_URL) -> str | None:
    """None when Redis answers PING at `url` within half a second, else why not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis does not answer at {url} ({type(exc).__name__}: {exc})"
    finally:
        client.close()
    return None


def delete_prefixed(url: str, prefix: str) -> int:
    """Delete the keys Django's cache wrote under `prefix` ("<prefix>:<version>:<key>")."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


def new_prefix() -> str:
    return f"{RUN_PREFIX}-{uuid.uuid4().hex[:8]}"


class RunScopedRedisCache(RedisCache):
    """Django's RedisCache, except that clear() removes only this cache's own keys (its
    KEY_PREFIX), never the whole database another run may be using."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        if not self.key_prefix:
            raise ValueError("a test Redis cache needs a KEY_PREFIX of its own")
        self._url = server

    def clear(self) -> None:
        delete_prefixed(self._url, self.key_prefix)


def cache_settings(url: str, prefix: str, **options: Any) -> dict[str, Any]:
    return {
        "BACKEND": "tests.redis_cache.RunScopedRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
        # Short, so a test against a stopped server is quick.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, **options},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server of a test's own, on a free loopback port, that the test can stop."""

    port: int
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """Start Debian's redis-server (keeping nothing on disk) and wait until it answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="wizard-redis-"))
    process = subprocess.Popen(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(folder)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(port=port, process=process, folder=folder)
    try:
        deadline = time.monotonic() + 5
        while unavailable_reason(server.url) is not None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {port} did not start")
            time.sleep(0.02)
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
