"""`headline-dedup serve` as a user runs it (default settings, its own bundled Redis, its generated API key), and
the faults it must survive without a restart: an idle subscriber, the bundled Redis SIGKILLed, Redis refusing
writes, a worker process killed; then Ctrl-C, and a restart that keeps the API key."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import requests

from tests.integration.helpers import dev_rows

ROOT = Path(__file__).resolve().parents[2]


class Serve:
    """A `serve` process in its own session (as a terminal runs it), its output collected."""

    def __init__(self, data_dir: Path, port: int, *args: str, **settings: str):
        self.data_dir, self.url = data_dir, f"http://127.0.0.1:{port}"
        env = {**os.environ, "HEADLINE_DEDUP_AUTH_DISABLED": "false", **settings}
        self.proc = subprocess.Popen([sys.executable, "-m", "headline_dedup.cli.main", "serve", "--port", str(port),
                                      "--data-dir", str(data_dir), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True).start()
        self._wait_for("serving on", 60)
        found = [m.group(1) for line in self.lines for m in [re.search(r"shown this once: (\S+)", line)] if m]
        self.key = found[0] if found else None

    def _wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {self.lines}"
            assert time.monotonic() < deadline, f"no {text!r} from serve: {self.lines}"
            time.sleep(0.1)

    def redis(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.data_dir / "redis.sock"), socket_timeout=5)

    def children(self, needle: str) -> list[int]:
        return [pid for pid in _pids() if _ppid(pid) == self.proc.pid and needle in _cmdline(pid)]

    def interrupt(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
        return self.proc.wait(60)


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("serve") / "redis"
    s = Serve(data_dir, _free_port())
    yield s
    if s.proc.poll() is None:
        s.interrupt()


def _session(serve: Serve) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {serve.key}"
    return session


def _post(session, url, rows, tag: str):
    body = {"headlines": [{"id": f"{tag}-{r['row']}", "text": r["title"]} for r in rows]}
    return session.post(f"{url}/v1/headlines", json=body, timeout=30)


def _wait_clustered(session, url, ids, timeout: float) -> float:
    started = time.monotonic()
    pending = list(ids)
    while pending:
        assert time.monotonic() - started < timeout, f"{len(pending)} headlines still queued after {timeout} s"
        pending = [h for h in pending
                   if session.get(f"{url}/v1/headlines/{h}", timeout=10).json().get("status") == "queued"]
        time.sleep(0.2)
    return time.monotonic() - started


def test_an_idle_event_stream_gets_heartbeats_and_stays_open(serve):
    """Default settings: a 15 s heartbeat, redis-py's 5 s socket timeout (which used to cut idle streams)."""
    session = _session(serve)
    assert serve.key and session.get(f"{serve.url}/readyz", timeout=10).status_code == 200
    with session.get(f"{serve.url}/v1/events", stream=True, timeout=(5, 30)) as resp:
        assert resp.status_code == 200
        lines = resp.iter_lines(decode_unicode=True)
        started, seen = time.monotonic(), []
        while time.monotonic() - started < 20:  # past the heartbeat interval, four times redis-py's timeout
            seen.append(next(lines))
        assert ": heartbeat" in seen
        rows = dev_rows(1)
        assert _post(session, serve.url, rows, "idle").status_code == 202
        while not any(line.startswith("event: cluster.created") for line in seen):
            seen.append(next(lines))  # the same connection delivers the next event


def test_the_bundled_redis_sigkilled_is_restarted_and_nothing_acknowledged_is_lost(serve):
    session, rows = _session(serve), dev_rows(400)
    before = _post(session, serve.url, rows[:200], "kill")
    assert before.status_code == 202
    pid = int(serve.redis().info("server")["process_id"])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:  # 503s while it is down, then accepted again
        after = _post(session, serve.url, rows[200:], "kill")
        if after.status_code == 202:
            break
        assert after.status_code == 503 and time.monotonic() < deadline
        time.sleep(0.2)
    assert not _alive(pid)  # reaped, not a zombie
    assert int(serve.redis().info("server")["process_id"]) != pid
    ids = [h["id"] for h in before.json()["headlines"] + after.json()["headlines"]]
    waited = _wait_clustered(session, serve.url, ids, 30)
    print(f"redis SIGKILLed: accepting again after {30 - (deadline - time.monotonic()):.1f} s, all 400 clustered "
          f"{waited:.1f} s later")


def test_redis_refusing_writes_is_waited_out_and_reported(serve):
    session, rows, r = _session(serve), dev_rows(600)[400:], serve.redis()
    accepted = _post(session, serve.url, rows[:100], "oom")
    assert accepted.status_code == 202
    r.config_set("maxmemory", str(int(r.info("memory")["used_memory"]) // 2))
    refused, not_ready = 0, False
    try:
        started = time.monotonic()
        while time.monotonic() - started < 12:  # longer than the heartbeat TTL (10 s)
            refused += _post(session, serve.url, rows[100:], "oom").status_code == 503
            not_ready |= session.get(f"{serve.url}/readyz", timeout=10).json()["status"] == "not_ready"
            time.sleep(0.5)
    finally:
        r.config_set("maxmemory", "0")
    assert refused > 0 and not_ready  # POSTs refused (nothing half-stored), and readiness said so
    ids = [h["id"] for h in accepted.json()["headlines"]]
    waited = _wait_clustered(session, serve.url, ids, 30)  # the same worker process resumed
    print(f"writes refused for 12 s: {refused} POSTs refused, readiness said not_ready; the 100 acknowledged "
          f"before clustered {waited:.1f} s after writes resumed")
    after = _post(session, serve.url, rows[100:], "oom")
    assert after.status_code == 202
    _wait_clustered(session, serve.url, [h["id"] for h in after.json()["headlines"]], 30)
    assert session.get(f"{serve.url}/readyz", timeout=10).json()["status"] == "ready"
    assert session.get(f"{serve.url}/v1/stats", timeout=10).json()["dead_letters"] == 0


def test_a_killed_worker_process_is_restarted(serve):
    session = _session(serve)
    (worker,) = serve.children(" worker")
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not serve.children(" worker") or serve.children(" worker") == [worker]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    posted = _post(session, serve.url, dev_rows(700)[600:], "restart")
    _wait_clustered(session, serve.url, [h["id"] for h in posted.json()["headlines"]], 30)


def test_each_namespace_served_gets_its_own_worker_and_dispatcher(tmp_path):
    served = Serve(tmp_path / "redis", _free_port(), HEADLINE_DEDUP_NAMESPACES="sport")
    try:
        session = _session(served)
        session.headers["X-Namespace"] = "sport"
        posted = _post(session, served.url, dev_rows(30), "sport")
        assert posted.status_code == 202
        _wait_clustered(session, served.url, [h["id"] for h in posted.json()["headlines"]], 60)
        assert len(served.children(" worker")) == len(served.children(" dispatcher")) == 2
    finally:
        served.interrupt()


def test_the_container_healthcheck_sees_the_working_roles(serve):
    env = {**os.environ, "HEADLINE_DEDUP_DATA_DIR": str(serve.data_dir)}
    for role in ("clusterer", "dispatcher"):
        run = subprocess.run([sys.executable, "-m", "headline_dedup.cli.main", "healthcheck", role], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, run.stdout + run.stderr
    gone = subprocess.run([sys.executable, "-m", "headline_dedup.cli.main", "healthcheck", "clusterer"], cwd=ROOT,
                          env={**env, "HEADLINE_DEDUP_NAMESPACE": "nobody-works-here"}, capture_output=True, text=True)
    assert gone.returncode == 1 and "unhealthy" in gone.stdout


def test_ctrl_c_stops_everything_and_a_restart_keeps_the_api_key(serve):
    children = [pid for pid in _pids() if _ppid(pid) == serve.proc.pid]
    redis_pid = int(serve.redis().info("server")["process_id"])
    assert serve.interrupt() == 0
    assert not any(_alive(pid) for pid in children + [redis_pid])
    again = Serve(serve.data_dir, _free_port())
    try:
        assert again.key is None  # not printed again: the stored one stands
        assert any("API keys:" in line for line in again.lines)
        again.key = serve.key
        assert _session(again).get(f"{again.url}/v1/stats", timeout=10).status_code == 200
        new = subprocess.run([sys.executable, "-m", "headline_dedup.cli.main", "keygen", "--save", "--name", "local",
                              "--scopes", "admin"], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "HEADLINE_DEDUP_DATA_DIR": str(serve.data_dir)})
        again.key = re.search(r"(hdk_\S+)", new.stdout).group(1)
        deadline = time.monotonic() + 10  # the running API picks the new key up, and the old one is gone
        while _session(again).get(f"{again.url}/v1/stats", timeout=10).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        again.key = serve.key
        assert _session(again).get(f"{again.url}/v1/stats", timeout=10).status_code == 401
    finally:
        again.interrupt()


def test_the_quick_start_ingests_the_example_feed_and_shows_its_stories(tmp_path):
    """`make run`: `serve --ingest examples/feed.txt` posts the feed, waits for its clusters in the POSTs (not a
    request per headline: each would be a log line on the user's terminal) and lists the stories with variants."""
    served = Serve(tmp_path / "redis", _free_port(), "--ingest", "examples/feed.txt")
    try:
        served._wait_for("Ctrl-C to stop.", 120)
        out = "".join(served.lines)
        assert "ingested 15 headlines (15 new, 0 already there)" in out, out
        assert len(re.findall(r"^  c\S+ \(2\): ", out, re.M)) == 5, out  # the feed's five stories told twice
        metrics = requests.get(f"{served.url}/metrics", timeout=10).text
        polls = re.findall(r'hd_http_requests_total\{method="GET",route="/v1/headlines/<hid>",[^}]*\} (\S+)',
                           metrics)
        assert sum(float(n) for n in polls) <= 3, polls
    finally:
        assert served.interrupt() in (0, 130)
