"""Real server processes for the end-to-end tests."""
import os
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from bench.service import wait_until_answers

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerUrl(str):
    """A server's base URL that also carries its process."""

    def __new__(cls, url: str, process: subprocess.Popen):
        self = super().__new__(cls, url)
        self.process = process
        return self


@contextmanager
def api_process(redis_url: str, workdir: Path, *args: str, **settings: str):
    """`headline-dedup api ARGS` (gunicorn gthread) in its own process on `redis_url`, with `settings` as
    HEADLINE_DEDUP_<NAME> variables; yields its base URL (with the process as `url.process`)."""
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "HEADLINE_DEDUP_AUTH_DISABLED": "true",
           "HEADLINE_DEDUP_PORT": str(port), "XDG_RUNTIME_DIR": str(workdir),  # gunicorn's control socket there
           **{f"HEADLINE_DEDUP_{k.upper()}": v for k, v in settings.items()}}
    log = workdir / f"api-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "headline_dedup.cli.main", "api", *args],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_answers(f"{url}/healthz", 60, lambda: proc.poll() is None):
            pytest.fail(f"headline-dedup api did not start:\n{log.read_text(errors='replace')[-2000:]}")
        yield ServerUrl(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def threaded_server(app):
    """`app` behind a threaded werkzeug server in this process; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def open_streams_then_post(url: str, streams: int, posts: int) -> None:
    """Open `streams` event streams, then check that POSTs and reads still go through while they are open."""
    opened = []
    try:
        for _ in range(streams):
            resp = requests.get(f"{url}/v1/events", stream=True, timeout=(5, 60))
            assert resp.status_code == 200
            assert next(resp.iter_lines(decode_unicode=True)).startswith("retry:")  # connected
            opened.append(resp)
        for i in range(posts):
            r = requests.post(f"{url}/v1/headlines", json={"text": f"Titre numéro {i} du fil"}, timeout=10)
            assert r.status_code == 202, r.text
        assert requests.get(f"{url}/v1/stats", timeout=10).status_code == 200
    finally:
        for resp in opened:
            resp.close()
