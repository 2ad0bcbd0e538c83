"""What every request handler needs, built once per app by `create_app` and found through `services()`."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
from flask import current_app

from headline_dedup.engine import Engine
from headline_dedup.settings import Settings
from headline_dedup.signatures import Signer
from headline_dedup.storage.eventhub import EventHub
from headline_dedup.storage.index import RedisIndex
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.reads import Reader
from headline_dedup.storage.store import RedisStore

EXTENSION = "headline_dedup"


@dataclass
class Services:
    settings: Settings
    client: redis.Redis
    keys: Keys
    ingestor: Ingestor
    reader: Reader
    hub: EventHub  # started by the first event stream
    streams: threading.BoundedSemaphore  # open event streams
    _matcher: Engine | None = None

    @property
    def matcher(self) -> Engine:
        """An engine on the shared index and state, used only for dry runs (built on first use: it checks the
        index fingerprint)."""
        if self._matcher is None:
            config = self.settings.engine_config()
            index = RedisIndex(self.client, self.keys, Signer(config.signature), self.settings.window_hours * 3600)
            self._matcher = Engine(index, RedisStore(self.client, self.keys), config)
        return self._matcher


def build(settings: Settings, client: redis.Redis) -> Services:
    keys = Keys(settings.key_prefix, settings.namespace)
    return Services(settings, client, keys,
                    Ingestor(client, keys, settings.retention_days * 86400, settings.max_backlog),
                    Reader(client, keys), EventHub(client, keys),
                    threading.BoundedSemaphore(settings.max_event_streams))


def services() -> Services:
    return current_app.extensions[EXTENSION]
