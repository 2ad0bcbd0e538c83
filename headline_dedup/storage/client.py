"""The one way the service builds Redis clients: its pool size, timeouts and retry policy, and a Redis Cluster
client when the URL points at a cluster.

redis-py 8 retries a failed command 10 times with exponential backoff by default, so while Redis is down every
request took seconds to get its 503, and a restart's "is a server already there?" probe took about 5 s. Here a
blip of up to ~0.15 s is retried invisibly, anything longer fails fast and is handled by whoever called (a 503
with Retry-After, a role's own backoff).

On Redis Cluster every key of a namespace shares one hash tag (see `keys`), so a namespace lives in one slot:
its scripts, transactions and blocking reads run on the one node that serves it, and namespaces spread over
the cluster's masters.
"""
from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

RETRIES = 2


def _retry(retries: int) -> Retry:
    return Retry(ExponentialBackoff(cap=0.1, base=0.05) if retries else NoBackoff(), retries)


def redis_client(url: str, max_connections: int = 1000, socket_timeout: float = 10.0,
                 retries: int = RETRIES, cluster: bool = False) -> redis.Redis | RedisCluster:
    """A client for `url` with a bounded pool, socket timeouts and `retries` quick retries; `cluster`: a Redis
    Cluster client (`url` names any node: it finds the others)."""
    if cluster:
        return RedisCluster.from_url(url, max_connections=max_connections, socket_timeout=socket_timeout,
                                     socket_connect_timeout=5, retry=_retry(retries))
    return redis.Redis.from_url(url, max_connections=max_connections, socket_timeout=socket_timeout,
                                socket_connect_timeout=5, health_check_interval=30, retry=_retry(retries))


def serves_a_cluster(url: str) -> bool:
    """Whether the Redis at `url` is a Redis Cluster node (`cluster_enabled:1`); False when it does not answer
    (the caller's client then reports what is wrong on its first command)."""
    probe = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, retry=_retry(0))
    try:
        return bool(int(probe.info("cluster").get("cluster_enabled", 0)))
    except redis.RedisError:
        return False
    finally:
        probe.close()


def service_client(url: str, settings) -> redis.Redis | RedisCluster:
    """The client a service process uses for `url`, as `settings` (pool, timeout, `redis_cluster`) ask."""
    cluster = settings.redis_cluster == "yes" or (settings.redis_cluster == "auto" and serves_a_cluster(url))
    return redis_client(url, settings.redis_max_connections, settings.redis_socket_timeout, cluster=cluster)


def dedicated_client(client: redis.Redis | RedisCluster, max_connections: int = 2) -> redis.Redis | RedisCluster:
    """A client with its own few connections, configured as `client` is (a thread's blocking reads must not
    take the pool's connections)."""
    if isinstance(client, RedisCluster):
        node = client.get_default_node()
        kwargs = {k: v for k, v in node.redis_connection.connection_pool.connection_kwargs.items()
                  if k in ("socket_timeout", "socket_connect_timeout", "password", "username", "ssl")}
        return RedisCluster(host=node.host, port=node.port, max_connections=max_connections, **kwargs)
    kwargs = dict(client.connection_pool.connection_kwargs)
    pool = client.connection_pool.__class__(connection_class=client.connection_pool.connection_class,
                                            max_connections=max_connections, **kwargs)
    return redis.Redis(connection_pool=pool)


def socket_timeout_of(client: redis.Redis | RedisCluster) -> float | None:
    if isinstance(client, RedisCluster):
        return client.get_default_node().redis_connection.connection_pool.connection_kwargs.get("socket_timeout")
    return client.connection_pool.connection_kwargs.get("socket_timeout")
