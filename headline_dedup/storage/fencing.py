"""Fenced commits: a transaction that is applied only while the writer still holds the clustering lock.

A worker whose batch outlived the lock's TTL must not write its decisions over those of the worker that took
the lock next. The lock key is WATCHed and its token compared before MULTI; if the lock expired or changed
hands before EXEC, nothing is written (`LockNotOwnedError` or `WatchError`, both retried by the role).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import redis
from redis.exceptions import LockNotOwnedError



def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Fence:
    key: str
    token: str

    @classmethod
    def of(cls, lock: redis.lock.Lock) -> "Fence":
        """The fence of a lock held by this thread."""
        token = lock.local.token
        if token is None:
            raise LockNotOwnedError("the clustering lock is not held")
        return cls(lock.name, _text(token))


@contextmanager
def fenced_pipeline(client: redis.Redis, fence: Fence | None) -> Iterator[redis.client.Pipeline]:
    """A transaction pipeline; with `fence`, its EXEC fails unless the lock is still ours (the caller queues
    its commands in the block, then calls `execute()`)."""
    with client.pipeline(transaction=True) as pipe:
        if fence is not None:
            pipe.watch(fence.key)
            if _text(pipe.get(fence.key)) != fence.token:
                raise LockNotOwnedError("the clustering lock expired or changed hands before the commit")
            pipe.multi()
        yield pipe
