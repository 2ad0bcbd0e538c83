"""What every long-running role (clusterer, dispatcher) shares: a loop of steps that survives Redis outages,
a graceful stop, and running until SIGTERM."""
from __future__ import annotations

import signal
import threading

import redis

from headline_dedup.logs import get_logger

log = get_logger("headline_dedup.workers")
# Failures of the surroundings, not of a message: nothing was acknowledged, the step is simply retried.
RETRYABLE = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.exceptions.LockError)


class Role:
    """Subclasses implement `step()`: one unit of work, safe to repeat after a failure."""

    def __init__(self) -> None:
        self.stopping = threading.Event()

    def step(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        """Loop until `stop()`; the current step is finished first (graceful stop)."""
        backoff = 0.1
        while not self.stopping.is_set():
            try:
                self.step()
                backoff = 0.1
            except RETRYABLE as exc:
                log.warning("redis unavailable; retrying", role=type(self).__name__, error=str(exc),
                            retry_in_s=backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def stop(self) -> None:
        self.stopping.set()


def run_until_signalled(role: Role) -> None:
    """Run `role` in this thread until SIGTERM or Ctrl-C."""
    signal.signal(signal.SIGTERM, lambda *_: role.stop())
    try:
        role.run()
    except KeyboardInterrupt:
        pass
