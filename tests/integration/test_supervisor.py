"""The supervisor restarts what dies, gives up (so that the process exits non-zero) on what keeps dying, and
restarts a child that hangs on its health check."""
import sys
import time

import pytest

from headline_dedup.workers.supervisor import Child, GaveUp, Subprocess, Supervisor, child_env


def _child(name: str, code: str, probe=None) -> Child:
    return Child(name, lambda: Subprocess([sys.executable, "-c", code], child_env()), stop_timeout=5, probe=probe)


def _run(supervisor: Supervisor, until, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline
        supervisor.check()
        time.sleep(0.05)


def test_a_child_that_dies_is_started_again():
    child = _child("sleeper", "import time; time.sleep(60)")
    sup = Supervisor([child], max_backoff=0.1)
    sup.start()
    try:
        first = child.process.pid
        child.process.popen.kill()
        _run(sup, lambda: child.process is not None and child.process.pid != first and child.process.poll() is None)
        assert child.restarts == 1
    finally:
        sup.stop()
    assert child.process is None


def test_a_child_that_keeps_dying_at_start_is_given_up_on():
    sup = Supervisor([_child("crasher", "import sys; sys.exit(3)")], max_failures=3, max_backoff=0.05)
    sup.start()
    with pytest.raises(GaveUp, match="crasher died 3 times in a row"):
        _run(sup, lambda: False)
    sup.stop()


def test_a_hung_child_is_restarted_after_failing_its_probes():
    child = _child("hung", "import time; time.sleep(60)", probe=lambda: False)
    sup = Supervisor([child], probe_interval=0.1, probe_failures_allowed=3, max_backoff=0.1)
    sup.start()
    try:
        first = child.process.pid
        _run(sup, lambda: child.process is not None and child.process.pid != first)
    finally:
        sup.stop()


def test_the_api_stops_first_and_redis_last():
    """Intake stops before deciding does (for a second posts queued with no worker), and the store goes last."""
    stopped = []

    class Recorded:
        def __init__(self, name):
            self.name, self.pid = name, 0

        def poll(self):
            return None

        def stop(self, timeout):
            stopped.append(self.name)

    names = ["redis", "api", "worker", "dispatcher"]
    sup = Supervisor([Child(n, lambda n=n: Recorded(n), stops_first=n == "api") for n in names])
    sup.start()
    sup.stop()
    assert stopped == ["api", "dispatcher", "worker", "redis"]
