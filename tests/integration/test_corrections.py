"""Editor corrections on real Redis with a real worker: merge, split and move keep every profile exact (the
consistency check recomputes them), leave events and a log, and the engine does not undo them."""
import json
import threading
import time

import pytest

from headline_dedup.errors import Conflict, NotFound
from headline_dedup.settings import Settings
from headline_dedup.storage.consistency import check
from headline_dedup.storage.corrections import Corrections
from headline_dedup.storage.ingest import Ingestor
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text
from tests.integration.helpers import running_workers, wait_until_decided

SETTINGS = Settings(worker_block_ms=50)
KEYS = Keys()
BOURSE = "La Bourse de Paris salue la baisse des taux de la BCE"
EUROPE = "Les Bourses européennes terminent dans le vert après la BCE"


def _post(client, texts: list[str], prefix: str) -> list[dict]:
    ingestor = Ingestor(client, KEYS, 86400, 10**9)
    ids = [a.headline_id for a in ingestor.submit([{"id": f"{prefix}{i}", "text": t} for i, t in enumerate(texts)])]
    return wait_until_decided(client, SETTINGS, ids)


def _cluster_of(client, text_records, text):
    return next(r["cluster_id"] for r in text_records if r["text"] == text)


def _events(client, kind):
    return [json.loads(as_text(f[b"data"])) for _, f in client.xrange(KEYS.events) if as_text(f[b"type"]) == kind]


@pytest.fixture
def seeded(redis_client, seed_headlines):
    with running_workers(redis_client, SETTINGS, 1):
        records = _post(redis_client, seed_headlines, "s")
        yield redis_client, records


def test_merge_then_rewrites_of_either_side_join_the_merged_cluster(seeded):
    client, records = seeded
    bourse, europe = _cluster_of(client, records, BOURSE), _cluster_of(client, records, EUROPE)
    assert bourse != europe  # the engine's known miss, which an editor now fixes
    fixes = Corrections(client, KEYS, SETTINGS)
    done = fixes.merge(europe, bourse, by="desk")
    assert done["cluster_id"] == bourse and done["merged"] == europe and done["size"] == 2
    assert fixes.follow(europe) == (bourse, [europe])
    assert check(client, KEYS).ok
    [rewrite] = _post(client, ["Les Bourses européennes finissent dans le vert après la baisse des taux de la BCE"],
                      "r")
    assert rewrite["cluster_id"] == bourse
    [merged] = _events(client, "cluster.merged")
    assert merged["by"] == "desk" and merged["at"].endswith("Z") and merged["merged"] == europe
    with pytest.raises(Conflict):
        fixes.merge(europe, bourse, by="desk")  # the old id is a pointer now


def test_split_member_and_its_rewrite_stay_out(seeded):
    client, records = seeded
    bourse, europe = _cluster_of(client, records, BOURSE), _cluster_of(client, records, EUROPE)
    fixes = Corrections(client, KEYS, SETTINGS)
    fixes.merge(europe, bourse, by="desk")
    europe_hid = next(h for h in client.hkeys(KEYS.cluster_members(bourse))
                      if as_text(client.hget(KEYS.headline(as_text(h)), "text")) == EUROPE)
    done = fixes.split(bourse, [as_text(europe_hid)], by="desk")
    new = done["new_cluster_id"]
    assert done["size"] == 1 and done["from_size"] == 1
    assert check(client, KEYS).ok
    [rewrite] = _post(client, ["Les Bourses européennes terminent dans le vert grâce à la BCE"], "r")
    assert rewrite["cluster_id"] != bourse and rewrite["cluster_id"] == new
    assert check(client, KEYS).ok


def test_move_to_a_cluster_and_out_on_its_own(seeded):
    client, records = seeded
    fed = sorted({r["cluster_id"] for r in records if "statu quo" in r["text"].lower()})
    assert len(fed) == 1
    members = [as_text(m) for m in client.hkeys(KEYS.cluster_members(fed[0]))]
    fixes = Corrections(client, KEYS, SETTINGS)
    alone = fixes.move(members[0], None, by="desk")
    assert alone["from"] == fed[0] and alone["size"] == 1 and alone["from_size"] == len(members) - 1
    assert as_text(client.hget(KEYS.headline(members[0]), "placed_by")) == "desk"
    back = fixes.move(members[0], fed[0], by="desk")
    assert back["size"] == len(members) and back["from"] == alone["cluster_id"]
    assert fixes.follow(alone["cluster_id"])[0] == fed[0]  # the emptied cluster points at where its member went
    assert check(client, KEYS).ok
    with pytest.raises(NotFound):
        fixes.move("nope", None, by="desk")
    with pytest.raises(Conflict):
        fixes.split(fed[0], ["s0-not-a-member"], by="desk")
    assert [c["type"] for c in fixes.log()[0]] == ["headline.moved", "headline.moved"]


def test_corrections_under_load_leave_every_profile_consistent(redis_client):
    """Headlines ingest while corrections run against the clusters they form; at the end the consistency check
    recomputes every cluster from its members."""
    from tests.integration.helpers import dev_rows

    rows = dev_rows(1000)
    fixes = Corrections(redis_client, KEYS, SETTINGS)
    applied, refused, while_feeding = [], [], 0
    with running_workers(redis_client, SETTINGS, 2):
        ingestor = Ingestor(redis_client, KEYS, 86400, 10**9)
        ids: list[str] = []

        def ingest():  # a live feed: small posts, each followed by a correction (whatever the machine's speed)
            for i in range(0, len(rows), 10):
                ids.extend(a.headline_id for a in ingestor.submit(
                    [{"id": r["row"], "text": r["title"]} for r in rows[i:i + 10]]))
                done, deadline = len(applied), time.monotonic() + 2
                while len(applied) == done < 100 and time.monotonic() < deadline:
                    time.sleep(0.005)

        feeder = threading.Thread(target=ingest)
        feeder.start()
        step = 0
        while len(applied) < 100:
            step += 1
            listed = [as_text(c) for c in redis_client.zrevrange(KEYS.clusters, 0, 40)]
            if len(listed) < 4:
                continue
            a, b = listed[step % len(listed)], listed[(step * 7 + 1) % len(listed)]
            try:
                members = [as_text(m) for m in redis_client.hkeys(KEYS.cluster_members(a))]
                if step % 3 == 0 and a != b:
                    applied.append(fixes.merge(a, b, by="load"))
                elif step % 3 == 1 and len(members) > 1:
                    applied.append(fixes.split(a, members[:1], by="load"))
                elif members:
                    applied.append(fixes.move(members[-1], b if step % 2 else None, by="load"))
                else:
                    continue
                while_feeding += feeder.is_alive()
            except (Conflict, NotFound) as exc:  # the cluster changed between the listing and the correction
                refused.append(exc.code)
        feeder.join()
        wait_until_decided(redis_client, SETTINGS, ids, timeout=120)
    report = check(redis_client, KEYS)
    assert report.ok, report.problems
    assert report.members == 1000 and len(applied) == 100
    assert while_feeding >= 50  # most corrections ran while headlines were still arriving and being decided
    assert len(Corrections(redis_client, KEYS, SETTINGS).log(limit=1000)[0]) == 100


def test_a_rewrite_the_old_story_also_matches_follows_the_editors_split(seeded):
    """The rewrite matches both the story it was split from and the split-out headline: the editor's call wins."""
    client, records = seeded
    text = "Etats-Unis: statu quo sur les taux de la Fed"
    fed = next(r["cluster_id"] for r in records if r["text"] == text)
    x = next(as_text(h) for h in client.hkeys(KEYS.cluster_members(fed))
             if as_text(client.hget(KEYS.headline(as_text(h)), "text")) == text)
    new = Corrections(client, KEYS, SETTINGS).split(fed, [x], by="desk")["new_cluster_id"]
    # Without the rule this one joins the old story, which scores higher (checked when the rule was written).
    [rewrite] = _post(client, ["USA: statu quo sur les taux de la Fed, qui attend de jauger les effets de la "
                               "politique de Trump"], "r")
    assert rewrite["cluster_id"] == new


def test_the_consistency_check_finds_a_profile_out_of_step(seeded):
    client, records = seeded
    assert check(client, KEYS).ok
    cid = records[0]["cluster_id"]
    token = as_text(client.hkeys(KEYS.cluster_tokens(cid))[0])
    client.hincrby(KEYS.cluster_tokens(cid), token, 1)
    client.hset(KEYS.cluster(cid), "size", 99)
    problems = check(client, KEYS).problems
    assert any("token counts differ" in p for p in problems) and any("size 99" in p for p in problems)


def test_the_check_command_exits_1_on_a_difference(seeded, redis_server, capsys, monkeypatch):
    from headline_dedup.cli.main import main

    client, records = seeded
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    assert main(["check"]) == 0
    assert "0 problems" in capsys.readouterr().err
    client.hset(KEYS.cluster(records[0]["cluster_id"]), "size", 99)
    assert main(["check"]) == 1
    assert "size 99" in capsys.readouterr().out
