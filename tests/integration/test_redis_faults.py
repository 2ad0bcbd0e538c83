"""Redis going away under the API and the worker, and coming back: clean 503s, then recovery without restart."""
import time

import redis

from headline_dedup.settings import Settings
from headline_dedup.storage.embedded import EmbeddedRedis
from headline_dedup.service import create_app
from tests.integration.helpers import running_workers, wait_until_decided


def test_redis_lost_mid_traffic_gives_503_json_then_recovers(tmp_path):
    server = EmbeddedRedis(tmp_path / "r", appendfsync="always").start()
    client = redis.Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
    settings = Settings(worker_block_ms=50)
    http = create_app(settings, client).test_client()
    try:
        first = http.post("/v1/headlines", json={"id": "a", "text": "Zone euro: la croissance cale"})
        assert first.status_code == 202
        with running_workers(client, settings, 1):
            server.kill()  # a crash, mid-traffic
            for path in ("/v1/stats", "/v1/clusters", "/readyz"):
                r = http.get(path)
                assert r.status_code == 503 and r.get_json()["error"]["code"] == "storage_unavailable", path
                assert r.headers["Retry-After"]
            r = http.post("/v1/headlines", json={"id": "b", "text": "Zone euro: la croissance a calé"})
            assert r.status_code == 503
            server = EmbeddedRedis(tmp_path / "r", appendfsync="always").start()  # same data, same socket
            deadline = time.monotonic() + 10
            while http.get("/v1/stats").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            r = http.post("/v1/headlines?wait=10", json={"id": "b", "text": "Zone euro: la croissance a calé"})
            assert r.status_code == 202
            ids = ["1", r.get_json()["headlines"][0]["id"]]
            hs = wait_until_decided(client, settings, ids, timeout=30)  # the worker recovered on its own
        assert hs[0]["cluster_id"] == hs[1]["cluster_id"]
    finally:
        client.close()
        server.stop()


def test_bundled_redis_is_out_of_the_terminals_reach_and_never_started_twice_on_one_directory(tmp_path):
    import os

    import pytest

    from headline_dedup.errors import StorageUnavailable

    with EmbeddedRedis(tmp_path / "r") as server:
        # Its own process group: a Ctrl-C sent to ours does not stop it under the workers.
        assert os.getpgid(server.process.pid) != os.getpgid(0)
        with pytest.raises(StorageUnavailable, match="already serves"):
            EmbeddedRedis(tmp_path / "r").start()
        assert redis.Redis.from_url(server.url).ping()
    with EmbeddedRedis(tmp_path / "r") as again:  # once stopped, the directory is free again
        assert redis.Redis.from_url(again.url).ping()


def test_bundled_redis_stops_when_its_parent_is_killed_so_a_restart_finds_the_directory_free(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    parent = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from headline_dedup.storage.embedded import EmbeddedRedis; "
        f"s = EmbeddedRedis({str(tmp_path / 'r')!r}).start(); print(s.process.pid, flush=True); time.sleep(600)")],
        stdout=subprocess.PIPE, text=True)
    server_pid = int(parent.stdout.readline())
    parent.kill()  # SIGKILL: no cleanup code runs, as with the OOM killer
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphaned = _alive(server_pid)
    if orphaned:
        os.kill(server_pid, signal.SIGKILL)  # do not leave it behind the test run
    assert not orphaned
    with EmbeddedRedis(tmp_path / "r") as again:
        assert redis.Redis.from_url(again.url).ping()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
