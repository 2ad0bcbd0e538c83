"""A real Redis Cluster (bundled redis-server nodes started by the fixtures; fails, never skips)."""
import pytest

from bench.localcluster import LocalCluster


def _started(tmp_path_factory, name: str, **kwargs) -> LocalCluster:
    try:
        return LocalCluster(tmp_path_factory.mktemp(name), **kwargs).start()
    except Exception as exc:  # a missing Redis must fail the run, never skip it
        pytest.fail(f"cannot start a local Redis Cluster: {exc}")


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory):
    """3 masters, no replicas."""
    cluster = _started(tmp_path_factory, "cluster", masters=3)
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_client(redis_cluster):
    client = redis_cluster.client()
    for node in redis_cluster.nodes:
        node.client().flushall()
    yield client
    client.close()


@pytest.fixture(scope="module")
def replicated_cluster(tmp_path_factory):
    """3 masters with a replica each, every write fsynced (appendfsync always)."""
    cluster = _started(tmp_path_factory, "replicated", masters=3, replicas=1, appendfsync="always")
    yield cluster
    cluster.stop()
