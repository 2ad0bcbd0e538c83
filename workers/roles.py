"""What every long-running role (clusterer, dispatcher) shares: a loop of steps that outlives any Redis fault,
a heartbeat after each successful step, a graceful stop, and running until SIGTERM."""
from __future__ import annotations

import signal
import threading
from typing import Callable

import redis

from headline_dedup.logs import get_logger
from headline_dedup.storage.heartbeats import Heartbeats

log = get_logger("headline_dedup.workers")

# Replies that say the server cannot serve now, not that the request is wrong; scripts wrap them in their own
# error ("ERR Error running script ... -OOM command not allowed ..."), so they are recognised by their text.
_TRANSIENT_REPLIES = ("OOM", "READONLY", "MISCONF", "LOADING", "BUSY", "NOREPLICAS", "MASTERDOWN", "CLUSTERDOWN",
                      "TRYAGAIN", "NOSCRIPT", "MOVED", "ASK ", "EXECABORT", "UNBLOCKED")


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is a failure of the surroundings (Redis unreachable, refusing writes, loading, a lost
    lock): nothing was acknowledged and the same work is simply retried. Other errors may be caused by the
    message itself (a poison message)."""
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.WatchError,
                        redis.exceptions.LockError, redis.exceptions.OutOfMemoryError, redis.ReadOnlyError)):
        return True
    if isinstance(exc, redis.ResponseError):
        text = str(exc)
        return any(reply in text for reply in _TRANSIENT_REPLIES)
    return False


class Role:
    """Subclasses set `client`, `keys`, `settings` and `name` before calling this constructor, and implement
    `step()`: one unit of work, safe to repeat after a failure."""

    @property
    def role(self) -> str:
        """The role's kind in heartbeats and logs: "clusterer", "dispatcher"."""
        return type(self).__name__.lower()

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.heartbeats = Heartbeats(self.client, self.keys, self.settings.heartbeat_ttl)

    def step(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        """Loop until `stop()`; the current step is finished first (graceful stop). Any Redis error is waited
        out with a capped backoff, however long it lasts: the role never dies of one. Meanwhile it does not
        beat, so readiness reports it. Any other exception escaping a step is a bug: it is logged and raised,
        so that the process exits non-zero and its supervisor restarts it."""
        backoff = 0.1
        while not self.stopping.is_set():
            try:
                self.step()
                self.heartbeats.beat(self.role, self.name)
                backoff = 0.1
            except redis.RedisError as exc:
                log.warning("redis fault; retrying", role=self.role, worker=self.name,
                            error=f"{type(exc).__name__}: {exc}"[:300], retry_in_s=backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                log.exception("role failed", role=self.role, worker=self.name)
                raise
        try:
            self.heartbeats.forget(self.role, self.name)
        except redis.RedisError:
            pass  # its beat goes stale on its own

    def stop(self) -> None:
        self.stopping.set()


def run_until_signalled(make: Callable[[], Role]) -> None:
    """Build a role with `make()` and run it in this thread until SIGTERM or Ctrl-C. A Redis that does not answer
    yet (a restart, a failover) is waited for with a capped backoff, as the role itself would."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    backoff = 0.5
    try:
        while not stopping.is_set():
            try:
                role = make()
                break
            except redis.RedisError as exc:
                log.warning("redis unavailable at start; retrying", error=f"{type(exc).__name__}: {exc}"[:300],
                            retry_in_s=backoff)
                stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        else:
            return
        signal.signal(signal.SIGTERM, lambda *_: role.stop())
        if stopping.is_set():
            return
        role.run()
    except KeyboardInterrupt:
        pass
