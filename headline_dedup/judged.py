"""Pooled evaluation against editor-judged pairs (as TREC pools relevance judgements).

A file of pairs read blind by an editor (SAME / DIFF / UNSURE) holds the pairs that some system put together.
A system's precision is SAME among its judged pairs (UNSURE left out), its recall the SAME pairs it found among all
SAME pairs of the file. Pairs whose normalised texts are identical are trivially the same story and left out on
both sides; pairs the system makes that no one judged are counted, not guessed: many of them means the figures
cannot be trusted yet (judge a sample blind first).
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Hashable, Iterable, Mapping, Sequence, TextIO

LABELS = ("SAME", "DIFF", "UNSURE")


@dataclass(frozen=True)
class Judgements:
    """Editor labels by unordered pair of item ids."""

    labels: Mapping[frozenset[str], str]

    @classmethod
    def read(cls, stream: TextIO, a_column: str = "row_a", b_column: str = "row_b",
             label_column: str = "label") -> "Judgements":
        labels: dict[frozenset[str], str] = {}
        for row in csv.DictReader(stream, delimiter="\t"):
            label = row[label_column].strip().upper()
            if label not in LABELS:
                raise ValueError(f"unknown label {label!r} (expected one of {LABELS})")
            labels[frozenset((row[a_column], row[b_column]))] = label
        return cls(labels)


@dataclass(frozen=True)
class PooledScores:
    precision: float  # SAME / (SAME + DIFF) among the system's judged pairs
    recall: float  # SAME found / SAME in the file
    f1: float
    same_found: int
    diff_made: int
    unsure_made: int
    unjudged: int  # the system's non-trivial pairs that no one judged
    same_total: int
    trivial: int  # pairs left out on both sides: identical normalised texts

    def as_dict(self) -> dict:
        return asdict(self)


def predicted_pairs(ids: Sequence[str], labels: Sequence[Hashable]) -> Iterable[frozenset[str]]:
    """Every unordered pair of items that share a label."""
    members: dict[Hashable, list[str]] = defaultdict(list)
    for i, label in zip(ids, labels):
        members[label].append(i)
    for group in members.values():
        for a, b in combinations(group, 2):
            yield frozenset((a, b))


def pooled(ids: Sequence[str], labels: Sequence[Hashable], judged: Judgements,
           keys: Mapping[str, str]) -> PooledScores:
    """Score the clustering `labels` of items `ids` against `judged`; `keys` maps an item id to its normalised
    text (pairs with equal keys are trivial)."""
    def trivial(pair: frozenset[str]) -> bool:
        a, b = tuple(pair)
        return keys.get(a) is not None and keys.get(a) == keys.get(b)

    counts = {"SAME": 0, "DIFF": 0, "UNSURE": 0, None: 0}
    for pair in predicted_pairs(ids, labels):
        if not trivial(pair):
            counts[judged.labels.get(pair)] += 1
    file_pairs = [(p, label) for p, label in judged.labels.items()]
    left_out = sum(1 for p, _ in file_pairs if trivial(p))
    same_total = sum(1 for p, label in file_pairs if label == "SAME" and not trivial(p))
    made = counts["SAME"] + counts["DIFF"]
    precision = counts["SAME"] / made if made else 1.0
    recall = counts["SAME"] / same_total if same_total else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PooledScores(precision, recall, f1, counts["SAME"], counts["DIFF"], counts["UNSURE"], counts[None],
                        same_total, left_out)
