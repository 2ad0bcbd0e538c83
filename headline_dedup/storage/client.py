"""The one way the service builds Redis clients: its pool size, timeouts and retry policy.

redis-py 8 retries a failed command 10 times with exponential backoff by default, so while Redis is down every
request took seconds to get its 503, and a restart's "is a server already there?" probe took about 5 s. Here a
blip of up to ~0.15 s is retried invisibly, anything longer fails fast and is handled by whoever called (a 503
with Retry-After, a role's own backoff).
"""
from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

RETRIES = 2


def redis_client(url: str, max_connections: int = 1000, socket_timeout: float = 10.0,
                 retries: int = RETRIES) -> redis.Redis:
    """A client for `url` with a bounded pool, socket timeouts and `retries` quick retries."""
    backoff = ExponentialBackoff(cap=0.1, base=0.05) if retries else NoBackoff()
    return redis.Redis.from_url(url, max_connections=max_connections, socket_timeout=socket_timeout,
                                socket_connect_timeout=5, health_check_interval=30, retry=Retry(backoff, retries))
