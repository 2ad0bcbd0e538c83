"""One reader of the events stream per process, shared by every open event stream.

A thread follows the stream with short blocking reads on a connection of its own and keeps the newest entries
in memory; subscribers wait on it instead of each blocking on Redis. So an idle subscriber holds no Redis
connection (a thousand of them cannot starve the pool the API and the workers use), no read ever outlasts the
client's socket timeout, and a Redis fault only pauses the thread, which resumes from the last id it saw.
"""
from __future__ import annotations

import atexit
import bisect
import threading
import time
import weakref
from collections import deque

import redis

from headline_dedup.logs import get_logger
from headline_dedup.storage.events import Event, EventFilter, EventLog, id_tuple
from headline_dedup.storage.client import dedicated_client, socket_timeout_of
from headline_dedup.storage.keys import Keys

log = get_logger("headline_dedup.events")
_HUBS: "weakref.WeakSet[EventHub]" = weakref.WeakSet()


@atexit.register
def stop_all_hubs() -> None:
    """At exit the reader threads stop retrying (and logging into closed streams)."""
    for hub in list(_HUBS):
        hub.stop()


class EventHub:
    def __init__(self, client: redis.Redis, keys: Keys, capacity: int = 5000, block_ms: int = 1000):
        """`client` is the process's client: the hub opens one connection of its own from its settings."""
        timeout = socket_timeout_of(client)
        # A blocking read must end well before the socket timeout would cut it.
        self.block_ms = int(min(block_ms, timeout * 500)) if timeout else block_ms
        self.log = EventLog(dedicated_client(client), keys)
        self.capacity = capacity
        self._ring: deque[Event] = deque()
        self._ids: deque[tuple[int, int]] = deque()
        self._covered_from: tuple[int, int] | None = None  # the ring holds every entry after this id
        self._last: tuple[int, int] = (0, 0)
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.failed = False
        _HUBS.add(self)

    def start(self) -> "EventHub":
        """Start the reader thread (once; idempotent)."""
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="event-hub", daemon=True)
                self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reading; open streams end (a server shutting down need not wait for them)."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def _run(self) -> None:
        backoff = 0.1
        last: str | None = None
        try:
            while not self._stopping.is_set():
                try:
                    if last is None:
                        last = self.log.last_id()
                        with self._changed:
                            self._covered_from = self._last = id_tuple(last)
                    events = self.log.read(last, 500, self.block_ms)
                    backoff = 0.1
                except redis.RedisError as exc:
                    if self._stopping.is_set():  # stopped while blocked in a read: the fault is the shutdown's
                        break
                    log.warning("event stream reader: redis fault; retrying", error=str(exc)[:200],
                                retry_in_s=backoff)
                    self._stopping.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if events:
                    last = events[-1].id
                    self._add(events)
        except BaseException:
            self.failed = True  # /healthz reports it: the process must be restarted
            log.exception("event stream reader stopped")
            raise

    def _add(self, events: list[Event]) -> None:
        with self._changed:
            for e in events:
                self._ring.append(e)
                self._ids.append(id_tuple(e.id))
            while len(self._ring) > self.capacity:
                self._ring.popleft()
                self._covered_from = self._ids.popleft()
            self._last = self._ids[-1]
            self._changed.notify_all()

    def after(self, after: str, limit: int = 100) -> list[Event] | None:
        """Up to `limit` entries after `after` from memory; None when memory does not reach back that far (or
        the hub has not started): the caller reads them from Redis."""
        at = id_tuple(after)
        with self._changed:
            if self._covered_from is None or at < self._covered_from:
                return None
            start = bisect.bisect_right(self._ids, at)
            return [self._ring[i] for i in range(start, min(start + limit, len(self._ring)))]

    def wait_beyond(self, after: str, timeout: float) -> bool:
        """Wait up to `timeout` seconds for an entry newer than `after`; whether one came."""
        at = id_tuple(after)
        with self._changed:
            return self._changed.wait_for(lambda: self._last > at or self._stopping.is_set(), timeout)


def follow(hub: EventHub, events: EventLog, after: str, flt: EventFilter, heartbeat_seconds: float,
           batch: int = 100):
    """Events after `after` that pass `flt`, until the hub stops; None whenever `heartbeat_seconds` pass without
    anything sent (the caller's heartbeat), also while Redis is unreachable. Entries come from the hub's memory, or
    from Redis (without blocking) for a subscriber that is behind it."""
    last_sent = time.monotonic()
    while not hub.stopped:
        try:
            found = hub.after(after, batch)
            if found is None:
                found = events.read(after, batch, None)
        except redis.RedisError:
            found = None
        if found is None:  # Redis is unreachable: wait a little, keep the subscriber's heartbeat going
            time.sleep(max(0.0, min(1.0, heartbeat_seconds - (time.monotonic() - last_sent))))
            if time.monotonic() - last_sent < heartbeat_seconds:
                continue
        elif found:
            for e in found:
                after = e.id
                if flt.accepts(e):
                    last_sent = time.monotonic()
                    yield e
            if time.monotonic() - last_sent < heartbeat_seconds:
                continue
        else:
            remaining = heartbeat_seconds - (time.monotonic() - last_sent)
            if remaining > 0 and hub.wait_beyond(after, remaining):
                continue
        last_sent = time.monotonic()
        yield None
