"""Real server processes for the end-to-end tests."""
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def api_process(redis_url: str, workdir: Path, *args: str, **settings: str):
    """`headline-dedup api ARGS` (gunicorn gthread) in its own process on `redis_url`, with `settings` as
    HEADLINE_DEDUP_<NAME> variables; yields its base URL."""
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "HEADLINE_DEDUP_AUTH_DISABLED": "true",
           "HEADLINE_DEDUP_PORT": str(port), "XDG_RUNTIME_DIR": str(workdir),  # gunicorn's control socket there
           **{f"HEADLINE_DEDUP_{k.upper()}": v for k, v in settings.items()}}
    log = workdir / f"api-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "headline_dedup.cli.main", "api", *args],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"headline-dedup api did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
