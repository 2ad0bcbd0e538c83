"""`headline-dedup api` (gunicorn) against clients that hold connections: half-open requests are cut after the
read timeout, and idle event streams neither die nor slow anything down."""
import socket
import time

import requests

from headline_dedup.service.server import REQUEST_THREADS, Server
from headline_dedup.settings import Settings
from tests.e2e.conftest import api_process, open_streams_then_post


def test_half_open_requests_are_cut_after_the_read_timeout(redis_server, tmp_path):
    with api_process(redis_server.url, tmp_path, "--threads", "8", read_timeout_seconds="2") as url:
        host, port = url.removeprefix("http://").split(":")
        held = []
        for _ in range(50):  # far more than the 8 threads: each sends half a request, then nothing
            s = socket.create_connection((host, int(port)))
            s.sendall(b"POST /v1/headlines HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{\"text\": ")
            held.append(s)
        started = time.monotonic()
        r = requests.post(f"{url}/v1/headlines", json={"text": "Zone euro: la croissance cale"}, timeout=30)
        assert r.status_code == 202  # threads came back: the half-open requests were cut
        for s in held:
            s.settimeout(10)
            try:
                while s.recv(4096):
                    pass  # an error response, if any, then the close
            except ConnectionResetError:
                pass
            s.close()
        assert time.monotonic() - started < 30  # all cut, none left waiting forever


def test_the_default_server_keeps_threads_for_requests_beside_the_streams():
    server = Server(Settings(), app_factory=lambda: None)
    assert server.cfg.threads == Settings().max_event_streams + REQUEST_THREADS
    assert server.cfg.worker_class.socket_class.timeout_seconds == Settings().read_timeout_seconds == 30
    # No control socket: gunicorn puts it at one path per user, which two APIs on one host would fight over.
    assert getattr(server.cfg, "control_socket_disable", True)


def test_500_idle_streams_leave_posts_and_readiness_alone(redis_server, tmp_path):
    with api_process(redis_server.url, tmp_path) as url:  # default settings
        open_streams_then_post(url, 500, 20)


def test_sigterm_ends_open_event_streams_cleanly_instead_of_cutting_them(redis_server, tmp_path):
    with api_process(redis_server.url, tmp_path) as url:
        with requests.get(f"{url}/v1/events", stream=True, timeout=(5, 60)) as resp:
            lines = resp.iter_lines(decode_unicode=True)
            assert next(lines).startswith("retry:")
            url.process.terminate()  # SIGTERM, as serve or an orchestrator stops the API
            rest = list(lines)  # the response ends as a response (a cut one raises ChunkedEncodingError)
        assert ": heartbeat" not in rest  # it ended at once, not after the next heartbeat
        assert url.process.wait(30) == 0
