"""The supervisor behind `headline-dedup serve`: runs the service's processes (the bundled Redis, the API, a
clustering worker, the webhook dispatcher) and restarts each one that dies, with a backoff.

A process that keeps dying soon after each start (`max_failures` times in a row, each within `min_uptime`
seconds) is given up on: everything is stopped and the supervisor exits non-zero, so that the machine's own
supervisor (systemd, Docker's restart policy) sees it, instead of serving on as a zombie.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from headline_dedup.logs import get_logger
from headline_dedup.storage.embedded import die_with_parent

log = get_logger("headline_dedup.supervisor")


class Process(Protocol):
    pid: int

    def poll(self) -> int | None: ...

    def stop(self, timeout: float) -> None: ...


class Subprocess:
    """A child process in its own session (a terminal's Ctrl-C reaches only the supervisor, which stops the
    children in order), sent SIGTERM if the supervisor dies."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, start_new_session=True,
                                      preexec_fn=die_with_parent)
        self.pid = self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def stop(self, timeout: float) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def python_command(*args: str) -> list[str]:
    """argv running `headline-dedup ARGS` with this interpreter."""
    return [sys.executable, "-m", "headline_dedup.cli.main", *args]


@dataclass
class Child:
    name: str
    spawn: Callable[[], Process]
    stop_timeout: float = 15.0
    probe: Callable[[], bool] | None = None  # health check of a running child (the API's /healthz)
    stops_first: bool = False  # stopped before the others (the API: no intake while nothing decides)
    probe_failures: int = 0
    next_probe: float = 0.0
    process: Process | None = None
    started_at: float = 0.0
    next_start: float = 0.0  # monotonic time of the next start while down
    failures: int = 0  # consecutive deaths within `min_uptime` of their start
    restarts: int = 0


class GaveUp(RuntimeError):
    """A child kept dying right after each start."""


@dataclass
class Supervisor:
    children: list[Child]
    max_failures: int = 10
    min_uptime: float = 30.0
    max_backoff: float = 30.0
    probe_interval: float = 10.0
    probe_failures_allowed: int = 3  # a child failing its probe this many times in a row is restarted (hung)
    on_restart: Callable[[Child], None] = field(default=lambda child: None)

    def start(self) -> None:
        """Start every child, in order (the first, Redis, is ready when its spawn returns)."""
        for child in self.children:
            self._start(child)

    def _start(self, child: Child) -> None:
        child.process = child.spawn()
        child.started_at = time.monotonic()
        log.info("started", process=child.name, pid=child.process.pid, restarts=child.restarts)

    def check(self) -> None:
        """Restart the children that died (after their backoff); raise `GaveUp` for one that keeps dying."""
        now = time.monotonic()
        for child in self.children:
            if child.process is not None:
                code = child.process.poll()
                if code is None and self._hung(child, now):
                    log.error("process failing its health check; restarting", process=child.name,
                              failed_probes=child.probe_failures)
                    child.process.stop(child.stop_timeout)
                    code = child.process.poll()
                if code is None:
                    if now - child.started_at >= self.min_uptime:
                        child.failures = 0
                    continue
                child.failures = child.failures + 1 if now - child.started_at < self.min_uptime else 1
                delay = self._delay(child.failures)
                log.error("process died; restarting", process=child.name, exit_code=code,
                          consecutive_failures=child.failures, restart_in_s=delay)
                if child.failures >= self.max_failures:
                    raise GaveUp(f"{child.name} died {child.failures} times in a row, each within "
                                 f"{self.min_uptime:.0f} s of its start (last exit code {code})")
                child.process, child.next_start = None, now + delay
            if child.process is None and now >= child.next_start:
                child.restarts += 1
                try:
                    self._start(child)
                except Exception as exc:  # e.g. Redis did not come up: count it as a death, try again later
                    child.failures += 1
                    child.next_start = now + self._delay(child.failures + 1)
                    log.error("restart failed", process=child.name, error=f"{type(exc).__name__}: {exc}")
                    if child.failures >= self.max_failures:
                        raise GaveUp(f"{child.name} could not be restarted: {exc}") from exc
                    continue
                self.on_restart(child)

    def _delay(self, failures: int) -> float:
        """Seconds before the next start after `failures` deaths in a row: 0.5, 1, 2... up to `max_backoff`."""
        return min(self.max_backoff, 0.5 * 2 ** (failures - 1))

    def _hung(self, child: Child, now: float) -> bool:
        """Probe a running child now and then (after a grace period from its start)."""
        if child.probe is None or now < child.next_probe or now - child.started_at < self.probe_interval:
            return False
        child.next_probe = now + self.probe_interval
        child.probe_failures = 0 if child.probe() else child.probe_failures + 1
        if child.probe_failures >= self.probe_failures_allowed:
            child.probe_failures = 0
            return True
        return False

    def stop(self) -> None:
        """Stop the children that stop first (the API), then the others in reverse order of start (Redis last)."""
        first = [c for c in self.children if c.stops_first]
        for child in first + [c for c in reversed(self.children) if not c.stops_first]:
            if child.process is not None:
                try:
                    child.process.stop(child.stop_timeout)
                    log.info("stopped", process=child.name)
                except Exception as exc:  # stop the others all the same
                    log.error("stop failed", process=child.name, error=str(exc))
                child.process = None


def child_env(**overrides: str | None) -> dict[str, str]:
    """This process's environment with `overrides` (None removes a variable)."""
    env = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
