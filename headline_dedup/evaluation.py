"""Clustering quality against labels: pairwise and B-cubed precision, recall and F1."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Hashable, Sequence


@dataclass(frozen=True)
class Scores:
    """Pairwise scores count pairs of items sharing a cluster; B-cubed averages per item."""

    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    items: int
    true_pairs: int
    predicted_pairs: int

    def as_dict(self) -> dict:
        return asdict(self)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> Scores:
    """Compare two labelings of the same items (position i of both is item i)."""
    if len(predicted) != len(gold):
        raise ValueError("predicted and gold labelings differ in length")
    n = len(gold)
    joint = Counter(zip(predicted, gold))
    pred_sizes, gold_sizes = Counter(predicted), Counter(gold)
    tp = sum(_pairs(c) for c in joint.values())
    pred_pairs = sum(_pairs(c) for c in pred_sizes.values())
    gold_pairs = sum(_pairs(c) for c in gold_sizes.values())
    pp = tp / pred_pairs if pred_pairs else 1.0
    pr = tp / gold_pairs if gold_pairs else 1.0
    # B-cubed: for item i, precision = |pred(i) ∩ gold(i)| / |pred(i)|, summed per joint cell.
    bp = sum(c * c / pred_sizes[p] for (p, _), c in joint.items()) / n if n else 1.0
    br = sum(c * c / gold_sizes[g] for (_, g), c in joint.items()) / n if n else 1.0
    return Scores(pp, pr, _f1(pp, pr), bp, br, _f1(bp, br), n, gold_pairs, pred_pairs)


def without_cluster(predicted: Sequence[Hashable], gold: Sequence[Hashable], drop: Hashable) -> Scores:
    """Scores with every item of gold cluster `drop` removed (e.g. the one story that holds most pairs)."""
    keep = [i for i, g in enumerate(gold) if g != drop]
    return score([predicted[i] for i in keep], [gold[i] for i in keep])


def largest_cluster(gold: Sequence[Hashable]) -> Hashable:
    sizes: dict[Hashable, int] = defaultdict(int)
    for g in gold:
        sizes[g] += 1
    return max(sizes, key=sizes.__getitem__)
