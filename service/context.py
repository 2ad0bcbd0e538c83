"""What every request handler needs, built once per app and namespace by `create_app` and found through
`services()`: the namespace a request names in its `X-Namespace` header (default: `Settings.namespace`), among
those the API serves (`Settings.namespaces`)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import redis
from flask import current_app, g, request

from headline_dedup.clustering import Decision
from headline_dedup.engine import Engine
from headline_dedup.errors import NotFound
from headline_dedup.ports import Headline
from headline_dedup.settings import Settings
from headline_dedup.storage.assembly import redis_engine
from headline_dedup.storage.corrections import Corrections
from headline_dedup.storage.eventhub import EventHub
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.policy import PolicyStore
from headline_dedup.storage.reads import Reader

EXTENSION = "headline_dedup"
HEADER = "X-Namespace"


@dataclass
class Services:
    settings: Settings
    client: redis.Redis
    keys: Keys
    ingestor: Ingestor
    reader: Reader
    hub: EventHub  # started by the first event stream
    corrections: Corrections
    policies: PolicyStore
    streams: threading.BoundedSemaphore  # open event streams
    _matcher: Engine | None = None
    _matching: threading.Lock = field(default_factory=threading.Lock)

    @property
    def matcher(self) -> Engine:
        """An engine on the shared index and state, used only for dry runs (built on first use: it checks the
        index fingerprint)."""
        if self._matcher is None:
            self._matcher = redis_engine(self.client, self.keys, self.settings)
        return self._matcher

    def match(self, headline: Headline) -> Decision:
        """The decision a headline would get now (a dry run; one at a time: the engine's mirror of the index by
        meaning catches up as it searches)."""
        with self._matching:
            self.matcher.set_policy(self.policies.current())
            return self.matcher.process([headline], dry_run=True)[0]


def build(settings: Settings, client: redis.Redis, keys: Keys,
          streams: threading.BoundedSemaphore) -> Services:
    return Services(settings, client, keys,
                    Ingestor(client, keys, settings.retention_days * 86400, settings.max_backlog),
                    Reader(client, keys), EventHub(client, keys), Corrections(client, keys, settings),
                    PolicyStore(client, keys, settings), streams)


class Namespaces:
    """The `Services` of each namespace the API serves (the event streams' limit is the process's)."""

    def __init__(self, settings: Settings, client: redis.Redis):
        streams = threading.BoundedSemaphore(settings.max_event_streams)
        self.default = settings.namespace
        self.by_name = {ns: build(settings, client, Keys(settings.key_prefix, ns), streams)
                        for ns in settings.served_namespaces()}

    def for_request(self) -> Services:
        """The services of the namespace the request names (set by `select_namespace`); an unknown one is a 404,
        said only once `auth` has let the request through: whoever has no key cannot list the namespaces."""
        wanted = g.get("namespace", self.default)
        if wanted not in self.by_name:
            raise NotFound("unknown_namespace", f"this API serves no namespace {wanted!r} (header {HEADER})")
        return self.by_name[wanted]

    def select_namespace(self) -> None:
        """Before each request: the namespace of the `X-Namespace` header, or the default (whether the request's
        API key may use it is `auth`'s to say)."""
        g.namespace = request.headers.get(HEADER, "").strip() or self.default


def namespaces() -> Namespaces:
    return current_app.extensions[EXTENSION]


def services() -> Services:
    return namespaces().for_request()
