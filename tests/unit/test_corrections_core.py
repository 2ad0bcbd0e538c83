"""The pure part of editor corrections: profiles rebuilt from members, and the engine keeping an editor's split."""
from headline_dedup.clustering import ClusterProfile
from headline_dedup.corrections import Member, rebuild
from headline_dedup.engine import Engine
from headline_dedup.memory import MemoryIndex, MemoryStore
from headline_dedup.ports import Headline
from headline_dedup.signatures import Signer, SignatureParams
from headline_dedup.weights import Rarity


def test_rebuild_counts_members_and_keeps_the_preferred_representative():
    members = [Member("a", ("bourse", "paris", "bce"), 0, 10.0), Member("b", ("bourse", "europe", "bce"), 0, 30.0),
               Member("c", ("bourse", "bce", "taux"), 0, 20.0)]
    p = rebuild("c1", members, Rarity({}, 0), keep=["b", "gone"], apart=frozenset({"c9"}))
    assert (p.size, p.latest, p.apart) == (3, 30.0, frozenset({"c9"}))
    assert p.counts == {"bourse": 3, "bce": 3, "paris": 1, "europe": 1, "taux": 1}
    assert p.representative_id == "b"  # the preferred one still a member
    assert rebuild("c1", members, Rarity({}, 0), keep=["gone"]).representative_id == "a"  # best cover, earliest


def _after_a_split(placed: bool) -> Engine:
    """h1 and h2 clustered together, then an editor splits h2 out (into e1, set apart from h1's cluster)."""
    store = MemoryStore()
    engine = Engine(MemoryIndex(Signer(SignatureParams())), store)
    texts = {"h1": "Statu quo sur les taux de la Fed aux Etats-Unis",
             "h2": "Etats-Unis: statu quo sur les taux de la Fed, Powell attend"}
    engine.process([Headline(h, t) for h, t in texts.items()])
    assert store.assignment["h1"] == store.assignment["h2"] == "h1"

    def member(hid):
        return Member(hid, tuple(engine.prepare(Headline(hid, texts[hid])).tokens), 0, 0.0)
    store.profiles["h1"] = rebuild("h1", [member("h1")], Rarity({}, 0), apart=frozenset({"e1"}))
    store.profiles["e1"] = rebuild("e1", [member("h2")], Rarity({}, 0), apart=frozenset({"h1"}))
    store.assignment["h2"] = "e1"
    load = store.load
    store.load = lambda *a: _placed(load(*a), {"h2"} if placed else set())
    return engine


def test_a_headline_both_sides_accept_joins_the_side_an_editor_placed_its_twin_in():
    closer_to_h1 = Headline("h3", "Statu quo sur les taux de la Fed aux Etats-Unis, selon Trump")
    assert _after_a_split(placed=False).process([closer_to_h1])[0].cluster_id == "h1"  # the better score
    assert _after_a_split(placed=True).process([closer_to_h1])[0].cluster_id == "e1"  # the editor's side


def _placed(snapshot, ids):
    snapshot.placed = set(ids)
    return snapshot


def test_profiles_copy_what_an_editor_set_apart():
    assert ClusterProfile("c", apart=frozenset({"x"})).copy().apart == frozenset({"x"})


def test_the_sweep_recommends_the_best_recall_at_precision_0_9():
    from headline_dedup.cli.offline import recommendation

    def row(live, p, r):
        return {"live_threshold": live, "threshold": max(live, 0.6), "judged": {"precision": p, "recall": r},
                "all": {"pair_precision": 0.5, "pair_recall": 0.5}}
    rows = [row(0.35, 0.85, 0.52), row(0.40, 0.90, 0.47), row(0.45, 0.92, 0.46), row(0.50, 0.95, 0.40)]
    advice = recommendation(rows, judged=True)
    assert "live_threshold 0.40" in advice and '"live_threshold": 0.4' in advice
    assert "live_threshold 0.50" in recommendation([row(0.35, 0.80, 0.5), row(0.50, 0.85, 0.4)], judged=True)
