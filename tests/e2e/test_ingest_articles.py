"""`headline-dedup ingest` of article files and of the seed feed through a real HTTP server: each article is one
headline posted with its body, and the worker's headlines carry the body's lead sentence."""
import time

import pytest

from headline_dedup.cli.main import main
from headline_dedup.feeds import read_article
from headline_dedup.leads import lead_sentence
from headline_dedup.service import create_app
from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text
from headline_dedup.workers.clusterer import Clusterer
from tests.conftest import shared
from tests.e2e.conftest import threaded_server

ARTICLES = [f"seed-feed/article-00{n}.txt" for n in range(1, 5)]


@pytest.fixture
def live(redis_client):
    with threaded_server(create_app(Settings(), redis_client)) as url:
        yield url, redis_client


def _record(client, hid: str) -> dict:
    return {as_text(k): as_text(v) for k, v in client.hgetall(Keys().headline(hid)).items()}


def _decide_all(client, ids: list[str]) -> list:
    """Run a worker until the headlines are decided; returns the Headline objects it handed to the engine."""
    worker = Clusterer(client, Settings(worker_block_ms=50))
    seen, process = [], worker.engine.process
    worker.engine.process = lambda hs, **kw: seen.extend(hs) or process(hs, **kw)
    deadline = time.monotonic() + 30
    while any(_record(client, h)["status"] == "queued" for h in ids):
        assert time.monotonic() < deadline, "the worker did not decide the headlines"
        worker.step()
    return seen


def test_ingest_posts_each_article_file_as_one_headline_with_its_body(live, capsys):
    url, client = live
    paths = [str(shared(a)) for a in ARTICLES]
    assert main(["ingest", "--article", *paths, "--url", url]) == 0
    assert capsys.readouterr().out.strip().endswith("posted 4 headlines (4 new, 0 already there)")
    expected = []
    for path in paths:
        with open(path, encoding="utf-8", newline="") as f:
            expected.append(read_article(f, path))
    ids = [str(n) for n in range(1, 5)]
    records = [_record(client, h) for h in ids]
    assert [(r["text"], r["body"]) for r in records] == [(a.text, a.body) for a in expected]
    assert "client_id" not in records[0] or not records[0]["client_id"]  # a path is no client id

    headlines = _decide_all(client, ids)
    assert [h.lead for h in headlines] == [lead_sentence(a.body) for a in expected]
    assert headlines[3].lead == headlines[3].text  # no title: the lead stands in as the text
    assert headlines[0].lead.startswith("Un modèle avancé d’intelligence artificielle (IA) chinois")


def test_ingest_posts_the_seed_feed_as_50_headlines_and_one_article_with_its_body(live, capsys):
    url, client = live
    assert main(["ingest", str(shared("seed-feed/feed.txt")), "--url", url]) == 0
    assert capsys.readouterr().out.strip().endswith("posted 51 headlines (51 new, 0 already there)")
    records = [_record(client, str(n)) for n in range(1, 52)]
    assert all("body" not in r for r in records[:50]) and not any(r["text"].startswith("- ") for r in records)
    article = records[50]
    assert article["text"] == "DeepSeek: les restrictions américaines derrière le succès de l'IA chinoise?"
    assert "\n- Effet de surprise -\n" in article["body"] and article["body"].endswith("T.Morelli--CPN")
    headlines = _decide_all(client, [str(n) for n in range(1, 52)])
    assert [h.lead for h in headlines[:50]] == [None] * 50
    assert headlines[50].lead.startswith("Les restrictions américaines sur les puces high-tech")
