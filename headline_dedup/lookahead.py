"""Finding a feed's next batch in a second process while this one decides its current batch.

`Engine.find` (normalise, sign, search both indexes) depends on the headlines alone, never on a decision, so a
forked copy of the engine can run it one batch ahead and hand each batch's `Found` over a pipe; this process
only decides. On two cores a plain list of 30k titles clusters in about two thirds of the time, with the very
same decisions. POSIX only (`os.fork`), for the in-memory engine without a semantic judge (its dry runs read the
decided clusters); `available` says whether it applies.
"""
from __future__ import annotations

import os
import signal
import sys
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Iterable, Iterator, Sequence, TypeVar

from headline_dedup.engine import Engine, Found
from headline_dedup.errors import ProcessLost
from headline_dedup.ports import Headline

T = TypeVar("T")


def available(engine: Engine) -> bool:
    """Whether `found_ahead` can serve `engine`: it can fork, has a second core, and no judge decides."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return hasattr(os, "fork") and cores > 1 and engine.judge is None and hasattr(engine.store, "exact")


class _KeysSeen:
    """The finder's stand-in for the store. `find` reads one thing from it, which exact keys were recorded
    before; the in-memory store records every key of every batch it decides and never forgets one, so the keys
    of the batches found so far are those."""

    def __init__(self, recorded: Iterable[str]):
        self._keys = set(recorded)

    def seen_keys(self, exact_keys: Sequence[str]) -> set[str]:
        return {k for k in exact_keys if k in self._keys}

    def record(self, found: Found) -> None:
        self._keys.update(found.exact_keys)


def found_ahead(batches: Iterable[tuple[T, Sequence[Headline]]], engine: Engine
                ) -> Iterator[tuple[T, Sequence[Headline], Found]]:
    """(item, headlines, `engine.find(headlines)`) for each of `batches`, found in a forked process one batch
    ahead; the caller decides each with `engine.decide`. The fork reads `batches` from here on: the caller must
    not. An error in the finder (a bad feed row) is raised here, in order."""
    sys.stdout.flush()  # what is buffered is this process's to write, not the fork's
    sys.stderr.flush()
    receiver, sender = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the fork's side; its output is what the tests check
        receiver.close()
        os._exit(_find(batches, engine, sender))
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise ProcessLost(message=f"the process finding candidates stopped ({_status(pid)})") from None
            if kind == "done":
                return
            if kind == "error":
                raise payload
            yield payload
    finally:
        receiver.close()
        _stop(pid)


def _find(batches, engine: Engine, sender: Connection) -> int:
    """The fork's work: find every batch and send it; returns the exit status."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches both: the parent stops, then stops this
    seen = engine.store = _KeysSeen(engine.store.exact)
    try:
        for item, headlines in batches:
            found = engine.find(headlines)
            seen.record(found)
            sender.send(("batch", (item, headlines, found)))
        sender.send(("done", None))
        return 0
    except BrokenPipeError:  # the parent stopped reading
        return 1
    except BaseException as exc:  # noqa: BLE001 - the parent raises it, in its place in the feed
        try:
            sender.send(("error", exc))
        except Exception:  # noqa: BLE001 - unpicklable: the parent says the finder failed
            pass
        return 1
    finally:
        sender.close()


def _status(pid: int) -> str:
    """How the fork ended, reaping it."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "already reaped"
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _stop(pid: int) -> None:
    """Reap the fork, stopping it first if it is still finding (the caller stopped early)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass
