"""What the seed feed's missed groups would cost: the engine with every earlier headline as a candidate.

LSH only proposes candidates; the verifier and the policy decide. Replacing LSH by "every earlier headline"
removes the candidate misses entirely, so sweeping the live bar then shows the lowest bar at which each of the
seed's required groups forms, and what that bar does to the labelled dev set in the same run.
"""
from __future__ import annotations

from typing import Sequence

from headline_dedup.clustering import PolicyParams
from headline_dedup.engine import Engine, EngineConfig
from headline_dedup.evaluation import largest_cluster, score, without_cluster
from headline_dedup.memory import MemoryStore
from headline_dedup.offline import memory_engine
from headline_dedup.ports import Headline, IndexEntry

from bench.data import SHARED, Row

SEED = SHARED / "seed-feed" / "feed.txt"
# The groups of the engine issue the default engine misses, by their opening words in the seed feed.
SEED_GROUPS = {
    "Redon trio": ("Inondations dans l'Ouest: Redon", "A Redon, les habitants", "Crues: 3 départements"),
    "conclave trio": ("Un conclave de parlementaires", "Budget de l'Etat: les parlementaires",
                      "Budget de l'Etat: un conclave décisif"),
    "BCE pair": ("La Bourse de Paris salue", "Les Bourses européennes terminent"),
}


class EveryEarlierHeadline:
    """A candidate index that returns every headline inserted before (no LSH: the ceiling of recall)."""

    def __init__(self):
        self._ids: list[str] = []

    def insert_and_query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        out = []
        for e in entries:
            out.append(list(self._ids))
            self._ids.append(e.headline_id)
        return out

    def query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        return [list(self._ids) for _ in entries]


def seed_headlines() -> list[str]:
    return [line[2:].strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]


def _labels(engine: Engine, rows: Sequence[Row]) -> list[str]:
    decisions = engine.process([Headline(r.id, r.text, timestamp=r.timestamp) for r in rows])
    return [d.cluster_id or f"rejected-{d.headline_id}" for d in decisions]


def groups_formed(labels: Sequence[str], texts: Sequence[str]) -> dict[str, bool]:
    """For each required seed group: whether all its headlines share one cluster."""
    out = {}
    for name, openings in SEED_GROUPS.items():
        clusters = {labels[i] for i, t in enumerate(texts) if t.startswith(openings)}
        out[name] = len(clusters) == 1
    return out


def run(dev: Sequence[Row], live_bars: Sequence[float]) -> list[dict]:
    """One row per (candidates, live bar): dev pair/B-cubed F1 and which seed groups form."""
    texts = seed_headlines()
    seed = [Row(str(i), t, 0.0) for i, t in enumerate(texts)]
    gold = [r.label for r in dev]
    largest = largest_cluster(gold)
    out = []
    for candidates in ("LSH (b=42, r=3)", "every earlier headline"):
        for bar in live_bars:
            config = EngineConfig(policy=PolicyParams(live_threshold=bar))

            def engine() -> Engine:
                if candidates.startswith("LSH"):
                    return memory_engine(config)
                return Engine(EveryEarlierHeadline(), MemoryStore(), config)

            labels = _labels(engine(), dev)
            s, w = score(labels, gold), without_cluster(labels, gold, largest)
            out.append({"candidates": candidates, "live_threshold": bar, "pair_precision": s.pair_precision,
                        "pair_recall": s.pair_recall, "pair_f1": s.pair_f1, "bcubed_f1": s.bcubed_f1,
                        "pair_f1_without_largest": w.pair_f1, "bcubed_f1_without_largest": w.bcubed_f1,
                        "seed_groups": groups_formed(_labels(engine(), seed), texts)})
    return out
