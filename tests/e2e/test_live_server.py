"""Through a real threaded HTTP server (werkzeug) with real clients in parallel."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys
from headline_dedup.service import create_app
from tests.e2e.conftest import threaded_server


@pytest.fixture
def live(redis_client):
    with threaded_server(create_app(Settings(), redis_client)) as url:
        yield url, redis_client


def test_same_id_posted_100_times_concurrently_is_stored_once(live):
    url, client = live
    barrier = threading.Barrier(100)

    def post(i):
        barrier.wait()
        body = {"id": "wire-42", "text": "Redon attend le pic de la crue", "source": f"s{i % 3}"}
        r = requests.post(f"{url}/v1/headlines", json=body, timeout=30)
        assert r.status_code == 202, r.text
        return r.json()["headlines"][0]

    with ThreadPoolExecutor(100) as pool:
        results = list(pool.map(post, range(100)))
    assert len({r["id"] for r in results}) == 1
    assert sum(not r["duplicate_request"] for r in results) == 1
    keys = Keys()
    assert int(client.hget(keys.meta, "received")) == 1 and client.xlen(keys.ingest) == 1


def test_same_text_without_id_is_stored_once_per_source(live):
    url, client = live
    bodies = [{"text": "Zone euro: la croissance cale", "source": "afp"}] * 20 + \
             [{"text": "Zone euro: la croissance cale", "source": "reuters"}] * 20
    with ThreadPoolExecutor(40) as pool:
        ids = list(pool.map(lambda b: requests.post(f"{url}/v1/headlines", json=b, timeout=30)
                            .json()["headlines"][0]["id"], bodies))
    assert len(set(ids[:20])) == 1 and len(set(ids[20:])) == 1 and ids[0] != ids[20]


def test_body_over_the_limit_is_413_json(live):
    url, client = live
    r = requests.post(f"{url}/v1/headlines", data=b'{"text": "' + b"x" * 2_100_000 + b'"}',
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_entity_too_large"
    assert client.xlen(Keys().ingest) == 0


def test_the_ingest_command_posts_ids_and_times_only_from_their_columns(live, tmp_path):
    from headline_dedup.cli.main import main

    url, client = live
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("Zone euro: la croissance cale\nLe Sénat veut renforcer la protection des haies\n",
                     encoding="utf-8")
    second.write_text("Trump annonce l'envoi de migrants à Guantanamo\nZone euro: la croissance cale\n",
                      encoding="utf-8")
    assert main(["ingest", str(first), "--url", url]) == 0
    assert main(["ingest", str(second), "--url", url]) == 0
    # Line numbers are not client ids: the second file's first line is a headline of its own, its second a
    # replay of the same text.
    assert int(client.get(Keys().seq)) == 3

    timed = tmp_path / "timed.tsv"
    timed.write_text("row\ttitle\tpubDate\nw-1\tRedon attend le pic de la crue\tThu, 30 Jan 2025 10:00:00 +0100\n",
                     encoding="utf-8")
    assert main(["ingest", str(timed), "--url", url, "--time-column", "pubDate"]) == 0
    record = client.hgetall(Keys().headline("4"))
    assert record[b"client_id"] == b"w-1" and record[b"published_at"] == b"2025-01-30T09:00:00+00:00"


def test_the_ingest_command_defaults_to_the_configured_port_and_says_in_one_line_when_nothing_answers(
        live, tmp_path, monkeypatch, capsys):
    from headline_dedup.cli.main import main

    url, client = live
    feed = tmp_path / "feed.txt"
    feed.write_text("Zone euro: la croissance cale\n", encoding="utf-8")
    monkeypatch.setenv("HEADLINE_DEDUP_PORT", url.rsplit(":", 1)[1])
    assert main(["ingest", str(feed)]) == 0 and int(client.get(Keys().seq)) == 1
    monkeypatch.setenv("HEADLINE_DEDUP_PORT", "1")  # nothing listens there
    capsys.readouterr()  # the in-process server's request log so far
    assert main(["ingest", str(feed)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["headline-dedup: service_unreachable: no headline-dedup service answers at "
                   "http://127.0.0.1:1 (start one with `headline-dedup serve`, or pass --url)"]
