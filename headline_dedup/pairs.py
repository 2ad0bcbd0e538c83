"""Two headlines, one question: same story? The policy's rules applied to a pair (used by `explain` and by the
verifier's precision/recall measurement on labelled pairs)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Mapping, Sequence, TextIO

from headline_dedup.clustering import Policy
from headline_dedup.normalize import NormalizedHeadline, Normalizer
from headline_dedup.verify import Match, pair_score
from headline_dedup.weights import Rarity, document_frequencies


@dataclass(frozen=True)
class PairVerdict:
    same: bool
    reason: str
    match: Match | None


def judge_pair(a: NormalizedHeadline, b: NormalizedHeadline, policy: Policy, rarity: Rarity,
               live: bool = False) -> PairVerdict:
    """Whether `b` would join a cluster made of `a` alone, and why; `live`: `b` arrives while `a`'s story is
    live (within `live_hours` of it), else nothing is known of when they appeared."""
    min_tokens = policy.params.min_tokens
    if not a.tokens or not b.tokens:
        return PairVerdict(False, "a headline has no content token (rejected as empty)", None)
    if a.key == b.key:
        return PairVerdict(True, "identical after normalisation (exact duplicate)", None)
    m = pair_score(b.tokens, a.tokens, rarity, b.kicker_tokens, a.kicker_tokens)
    if len(set(a.tokens)) < min_tokens or len(set(b.tokens)) < min_tokens:
        return PairVerdict(False, f"fewer than {min_tokens} content tokens: kept as a singleton", m)
    name, bar = "live_threshold" if live else "threshold", policy.min_score(1, live)
    if policy.accepts(m, 1, live):
        return PairVerdict(True, f"score {m.score:.3f} >= {name} {bar}", m)
    return PairVerdict(False, f"score {m.score:.3f} < {name} {bar}", m)


def pair_rarity(a: NormalizedHeadline, b: NormalizedHeadline, df: Mapping[str, int] | None = None,
                total: int = 0) -> Rarity:
    """Rarity for judging a pair: the given stream counts plus the two headlines themselves."""
    counts = dict(df or {})
    for t in set(a.tokens) | set(b.tokens):
        counts[t] = counts.get(t, 0) + (t in a.tokens) + (t in b.tokens)
    return Rarity(counts, total + 2)


@dataclass(frozen=True)
class PairScores:
    """Verifier quality on labelled pairs (`positives`/`negatives` exclude the ambiguous middle)."""

    threshold: float
    precision: float
    recall: float
    positives: int
    negatives: int
    true_positives: int
    false_positives: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def score_pairs(pairs: Sequence[tuple[NormalizedHeadline, NormalizedHeadline, bool | None]],
                policy: Policy) -> PairScores:
    """Precision and recall of `judge_pair` on (a, b, duplicate?) pairs; None labels are skipped. Nothing says
    when the two headlines of a pair appeared, so the verifier's `threshold` decides (not the live bar). Rarity
    comes from the document frequencies of every headline in the set, as a stream of them would have learned."""
    df, total = document_frequencies(h.tokens for a, b, _ in pairs for h in (a, b))
    rarity = Rarity(df, total)
    tp = fp = pos = neg = 0
    for a, b, label in pairs:
        if label is None:
            continue
        same = judge_pair(a, b, policy, rarity).same
        pos += label
        neg += not label
        tp += same and label
        fp += same and not label
    precision = tp / (tp + fp) if tp + fp else 1.0
    return PairScores(policy.params.threshold, precision, tp / pos if pos else 0.0, pos, neg, tp, fp)


def read_scored_pairs(stream: TextIO, normalizer: Normalizer, lang: str, a_column: str, b_column: str,
                      score_column: str, duplicate_min: float, different_max: float):
    """Normalised (a, b, label) from a TSV with a header; label None for scores between the two bounds."""
    out = []
    for row in csv.DictReader(stream, delimiter="\t"):
        s = float(row[score_column])
        label = True if s >= duplicate_min else False if s <= different_max else None
        a, b = (normalizer.normalize(row[c], lang) for c in (a_column, b_column))
        out.append((a, b, label))
    return out
