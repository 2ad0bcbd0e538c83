"""Finding each batch ahead in a forked process (`lookahead`): the decisions of finding in turn, errors raised
in their place, and no process left behind."""
import os
import pickle
import signal

import pytest

from bench.data import scrape
from headline_dedup import lookahead
from headline_dedup.errors import InvalidRequest, Overloaded, ProcessLost
from headline_dedup.feeds import FeedRow
from headline_dedup.offline import memory_engine
from headline_dedup.ports import Headline
from headline_dedup.wordvectors import WordVectorEncoder

BATCH = 250


@pytest.fixture(scope="module")
def plain_list() -> list[FeedRow]:
    """3,000 scraped titles without their times (every story stays live): re-scrapes, rewrites, neighbours by
    meaning across batches."""
    return [FeedRow(r.id, r.text) for r in scrape(3000)]


def batches(rows):
    for start in range(0, len(rows), BATCH):
        yield start, [Headline(r.id, r.text, timestamp=r.timestamp) for r in rows[start:start + BATCH]]


def decided_ahead(rows, engine):
    return [d for _, headlines, found in lookahead.found_ahead(batches(rows), engine)
            for d in engine.decide(headlines, found)]


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The ids of the processes `lookahead` forks."""
    pids, fork = [], os.fork

    def recorded():
        pid = fork()
        if pid:
            pids.append(pid)
        return pid
    monkeypatch.setattr(os, "fork", recorded)
    return pids


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("vectors", [None, WordVectorEncoder], ids=["words", "word-vectors"])
def test_finding_ahead_gives_the_decisions_of_finding_in_turn(plain_list, vectors, forks):
    in_turn = memory_engine(candidates=vectors and vectors())
    expected = [d for _, headlines in batches(plain_list) for d in in_turn.process(headlines)]
    assert {"exact", "similar", "new"} <= {d.reason for d in expected}  # copies, rewrites, stories
    assert decided_ahead(plain_list, memory_engine(candidates=vectors and vectors())) == expected
    assert len(forks) == 1 and reaped(forks[0])


def test_an_error_in_the_feed_is_raised_after_the_batches_before_it(plain_list, forks):
    def feed():
        yield from batches(plain_list[:2 * BATCH])
        raise InvalidRequest("invalid_time", "cannot parse time 'hier'", field="time")

    engine, decided = memory_engine(), []
    with pytest.raises(InvalidRequest) as raised:
        for _, headlines, found in lookahead.found_ahead(feed(), engine):
            decided += engine.decide(headlines, found)
    assert len(decided) == 2 * BATCH
    assert (raised.value.code, raised.value.field) == ("invalid_time", "time")
    assert reaped(forks[0])


def test_a_caller_that_stops_early_leaves_no_process_behind(plain_list, forks):
    found = lookahead.found_ahead(batches(plain_list), memory_engine())
    next(found)
    found.close()
    assert reaped(forks[0])


def test_named_errors_cross_a_pipe_whole():
    error = pickle.loads(pickle.dumps(Overloaded("rate_limited", "slow down", retry_after=7)))
    assert (type(error), error.code, error.message, error.retry_after) == (Overloaded, "rate_limited", "slow down", 7)


def test_an_engine_with_a_judge_finds_in_turn():
    engine = memory_engine()
    engine.judge = object()  # a judge's dry runs read the decided clusters, which a fork would not see
    assert not lookahead.available(engine)


def test_a_finder_killed_midway_is_named(plain_list, forks):
    found = lookahead.found_ahead(batches(plain_list), memory_engine())
    next(found)
    os.kill(forks[0], signal.SIGKILL)
    with pytest.raises(ProcessLost, match="killed by SIGKILL"):
        list(found)
    assert reaped(forks[0])
