"""The HTTP server of `headline-dedup api` (and so of `serve`): gunicorn, one gthread worker process, with
read timeouts.

gunicorn's gthread worker reads a request in a pool thread with a blocking socket and no timeout, so a client
that sends half a request (or stops reading a response) holds that thread forever. Here every client socket
gets `read_timeout_seconds` on each read and write: such a client is disconnected and its thread returns to
the pool. The pool has room for `max_event_streams` open event streams plus the threads requests need.
"""
from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from headline_dedup.settings import Settings
from headline_dedup.storage.eventhub import stop_all_hubs

REQUEST_THREADS = 64  # threads kept for ordinary requests beside the event streams
CLOSING_THREADS = 16


class _TimeoutSocket(socket.socket):
    """A client socket whose blocking mode carries a timeout (gthread switches sockets between blocking and
    non-blocking; each switch to blocking would otherwise clear it)."""
    __slots__ = ()
    timeout_seconds = 30.0

    def setblocking(self, flag: bool) -> None:
        super().setblocking(flag)
        if flag:
            self.settimeout(self.timeout_seconds)


class ReadTimeoutWorker(ThreadWorker):
    """gthread with a timeout on every client socket (`socket_class` carries its value), and lingering closes
    off the main loop: gthread closes a connection "gracefully" on its main thread, draining for up to 2 s
    what the client still sends, so fifty clients that never close stalled every accept for 100 s."""
    socket_class = _TimeoutSocket

    def init_process(self):
        self.closer = ThreadPoolExecutor(CLOSING_THREADS, thread_name_prefix="close")
        super().init_process()  # runs the worker loop

    def enqueue_req(self, conn):
        if type(conn.sock) is socket.socket:  # plain TCP (TLS sockets are wrapped later, and keep theirs)
            conn.sock.__class__ = self.socket_class
            conn.close = partial(self._close, conn.close)
        super().enqueue_req(conn)

    def handle_exit(self, sig, frame):
        """SIGTERM: end the open event streams at once (clients reconnect elsewhere with Last-Event-ID) instead
        of holding the shutdown for the whole graceful timeout."""
        stop_all_hubs()
        super().handle_exit(sig, frame)

    def _close(self, close, graceful=False):
        if graceful:
            self.closer.submit(close, graceful=True)
        else:
            close()


def worker_class(read_timeout: float) -> type[ReadTimeoutWorker]:
    sock = type("TimeoutSocket", (_TimeoutSocket,), {"__slots__": (), "timeout_seconds": read_timeout})
    return type("ReadTimeoutWorker", (ReadTimeoutWorker,), {"socket_class": sock})


class _Logs(Logger):
    """Gunicorn's records go to the root handler too (JSON, like the rest)."""

    def setup(self, cfg):
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers, logger.propagate = [], True


class Server(BaseApplication):
    """`app_factory()` builds the Flask app in the worker process."""

    def __init__(self, settings: Settings, app_factory, threads: int | None = None):
        self.settings, self.app_factory = settings, app_factory
        self.threads = threads or settings.max_event_streams + REQUEST_THREADS
        super().__init__()

    def load_config(self):
        s = self.settings
        self.cfg.set("logger_class", _Logs)
        self.cfg.set("bind", f"{s.host}:{s.port}")
        self.cfg.set("worker_class", worker_class(s.read_timeout_seconds))
        self.cfg.set("threads", self.threads)
        self.cfg.set("worker_connections", self.threads + 1000)  # room for idle keep-alive connections
        self.cfg.set("workers", 1)
        self.cfg.set("graceful_timeout", 10)
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1: its control socket sits at one path
            self.cfg.set("control_socket_disable", True)   # per user (~/.gunicorn), shared by every API on the host

    def load(self):
        return self.app_factory()
