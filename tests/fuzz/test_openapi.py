"""Schemathesis against /openapi.json, in process (WSGI) on real Redis: no 5xx, every response as documented."""
import logging
import os
import threading

import pytest
import redis
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from hypothesis import HealthCheck, settings

from headline_dedup import apikeys
from headline_dedup.settings import Settings
from headline_dedup.service import create_app
from tests.conftest import start_session_redis
from headline_dedup.workers.clusterer import Clusterer

SERVER = start_session_redis("fuzz")
CLIENT = redis.Redis.from_url(SERVER.url)
KEY, ENTRY = apikeys.generate("fuzz", ["admin"])
# Authentication on, as served: the document's security requirements are checked too (a request without the key
# must be refused).
SETTINGS = Settings(max_wait_seconds=0.2, worker_block_ms=50, webhook_allow_private=True, auth_disabled=False,
                    api_keys=ENTRY)
APP = create_app(SETTINGS, CLIENT)
WORKER = Clusterer(CLIENT, SETTINGS, name="fuzz")  # a real worker: headlines get clustered, /readyz is ready


@pytest.fixture(scope="module", autouse=True)
def _worker():
    """The worker, in a thread for this module's tests only. Its info lines are silenced meanwhile: it logs
    whenever a batch ends, also while pytest writes its progress between tests (no output is captured then),
    and the line landed in the middle of the run's dots."""
    logger = logging.getLogger("headline_dedup.worker")
    level, thread = logger.level, threading.Thread(target=WORKER.run, daemon=True)
    logger.setLevel(logging.WARNING)
    thread.start()
    yield
    WORKER.stop()
    thread.join(5)
    logger.setLevel(level)


# The event stream never ends: it is exercised by tests/e2e/test_events.py instead.
# A request that breaks the schema may also be over the body limit: 413 is then the right refusal.
CONFIG = SchemathesisConfig.from_str("""
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
""")
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP, config=CONFIG).exclude(path="/v1/events")


@schema.parametrize()
# CI replays the same derandomized cases every run; FUZZ_RANDOM=1 FUZZ_EXAMPLES=500 explores new ones.
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")), deadline=None,
          derandomize=not os.environ.get("FUZZ_RANDOM"), suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    # A negative case whose headers were mutated by leaving the key out goes without it: given the key back, the
    # request is valid, and its 200 read as "invalid data accepted" (seen once in a full run).
    headers = {"Authorization": f"Bearer {KEY}"}
    if _headers_mutated(case) and "Authorization" not in (case.headers or {}):
        headers = {}
    case.call_and_validate(headers=headers)


def _headers_mutated(case) -> bool:
    meta = case.meta
    component = meta.components.get(ParameterLocation.HEADER) if meta is not None else None
    return component is not None and component.mode == GenerationMode.NEGATIVE
