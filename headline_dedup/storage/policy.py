"""The assignment thresholds an admin changes at run time: kept in the namespace's meta hash, read by each worker
before each batch, every change an entry of the corrections log and an event (`policy.changed`)."""
from __future__ import annotations

import json
import time
from dataclasses import replace

import redis

from headline_dedup.clustering import PolicyParams
from headline_dedup.settings import Settings
from headline_dedup.storage.corrections import stage_correction
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text
from headline_dedup.times import iso_time

TUNABLE = ("threshold", "live_threshold", "live_hours", "core_threshold")


class PolicyStore:
    def __init__(self, client: redis.Redis, keys: Keys, settings: Settings):
        """The configured policy (`settings`) is the base; what an admin set overrides it."""
        self.client, self.keys, self.settings = client, keys, settings
        self.base = settings.engine_config().policy

    def overrides(self) -> dict[str, float]:
        raw = as_text(self.client.hget(self.keys.meta, "policy"))
        return {k: v for k, v in json.loads(raw).items() if k in TUNABLE} if raw else {}

    def current(self) -> PolicyParams:
        return replace(self.base, **self.overrides())

    def put(self, changes: dict[str, float], by: str | None) -> dict:
        """Set some of the `TUNABLE` values (the others keep theirs); returns the change's record."""
        stored = {**self.overrides(), **{k: v for k, v in changes.items() if k in TUNABLE}}
        now = time.time()
        record = {"by": by, "at": iso_time(now), "changed": changes,
                  "policy": _tunable(replace(self.base, **stored))}
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.keys.meta, "policy", json.dumps(stored))
        stage_correction(pipe, self.keys, self.settings, "policy.changed", record)
        pipe.execute()
        return record

    def describe(self) -> dict:
        """The policy in force and the configured one it started from."""
        return {"policy": _tunable(self.current()), "configured": _tunable(self.base)}


def _tunable(params: PolicyParams) -> dict[str, float]:
    return {k: getattr(params, k) for k in TUNABLE}
