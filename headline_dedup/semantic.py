"""The semantic verifier tier: a sentence encoder (multilingual-e5-small, or any embeddings server) judges the
decisions word overlap leaves open.

Two kinds of decision are open:

- a cluster that only meaning found (the word-vector or e5 neighbours of the headline, none of them sharing a
  MinHash band with it) and that the lexical rules did not join (they judge only neighbours whose words agree);
- a cluster the bands found whose lexical score is below the bars but at least `grey_min` (a rewrite that
  changed most words).

The judge compares the headline with the cluster's members among its candidates (the few the indexes returned:
the nearest ones, so no member list is read) and joins the cluster whose best cosine reaches `bar`, when word
overlap reaches `grey_min` and neither figures nor kickers conflict. Only the members whose cheap candidate
vectors (word vectors) are already close to the headline's, at `min_cheap_cosine`, are worth embedding: the
others almost never reach the bar. Nor are members older than `horizon_hours` (a day): on a multi-day feed, what
meaning alone joins across more than a day is another development as often as the same story. A headline the
judge joined lends its words to no profile (the engine's `_join`): its siblings then have to resemble the
story, not it.

Measured on the editor-judged dev pairs in time order (README, bench/results/quality.md): e5 at 0.93, word
overlap at 0.25, word vectors at 0.80: recall 0.560 at precision 0.924 (16 unjudged pairs), 17% of the
headlines embedded (at 0.82: recall 0.537 at precision 0.922, 14%). When a joined headline's words went into
the profile, the same bar let the day's big story absorb its other developments (the Iran crash's "other
airliners shot down before") and templates with another entity: precision 0.878, and the bar had to be 0.94
(recall 0.487 at 0.917). At 0.925 the seed feed's French growth headline joins the euro zone's (e5 0.929):
another story.

Vectors come from a `VectorSource`, which computes each headline's vector once: the engine tells it the batch's
texts, and foresees what a batch will need with a dry run whose wants are embedded in one call (`foreseeing`).
Only the headlines in open decisions and their candidates are ever embedded.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Mapping, Protocol, Sequence

import numpy as np

from headline_dedup.vectors import Encoder
from headline_dedup.verify import Match


class VectorSource(Protocol):
    """Sentence vectors of headlines by id, each computed once."""

    encoder: Encoder

    def remember(self, texts: Mapping[str, str]) -> None:
        """Texts of headlines that may be asked for (the current batch's)."""

    def vectors(self, ids: Sequence[str], embed: bool = True) -> dict[str, np.ndarray]:
        """Unit vectors of `ids`, computing those it lacks unless `embed` is false; ids whose text is unknown are
        left out."""


class MemoryVectors:
    """A `VectorSource` in memory (offline commands): texts and vectors of every headline it was told about."""

    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self._texts: dict[str, str] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self.embedded = 0  # how many headlines were embedded

    def remember(self, texts: Mapping[str, str]) -> None:
        self._texts.update(texts)

    def add(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Vectors computed elsewhere (the same encoder's candidate vectors)."""
        self._vectors.update(vectors)

    def vectors(self, ids: Sequence[str], embed: bool = True) -> dict[str, np.ndarray]:
        missing = [i for i in dict.fromkeys(ids) if i not in self._vectors and i in self._texts]
        if missing and embed:
            self._vectors.update(zip(missing, self.encoder.encode([self._texts[i] for i in missing])))
            self.embedded += len(missing)
        return {i: self._vectors[i] for i in ids if i in self._vectors}


@dataclass(frozen=True)
class JudgeParams:
    bar: float = 0.93  # e5 cosine at which the judge calls two headlines the same story
    grey_min: float = 0.25  # the lowest word-overlap score the judge considers
    min_cheap_cosine: float = 0.80  # the lowest cosine of cheap candidate vectors (word vectors) worth embedding
    horizon_hours: float = 24.0  # the judge compares a headline with members at most this much older

    def is_open(self, match: Match) -> bool:
        """Whether the judge may decide a headline's comparison with a cluster: enough word overlap, and neither
        figures nor kickers conflict."""
        return match.score >= self.grey_min and not match.conflicts


class SemanticJudge:
    """Picks, among open candidate clusters, the one whose members the headline is closest to in meaning."""

    def __init__(self, source: VectorSource, params: JudgeParams | None = None):
        self.source = source
        self.params = params or JudgeParams()
        self._foreseen: set[str] | None = None
        self._only: set[str] | None = None

    @contextmanager
    def foreseeing(self, only: set[str] | None = None):
        """Inside, `choose` embeds nothing and notes the vectors it lacked (for the decisions of the headlines in
        `only`, when given); on leaving, they are embedded in one call (an encoder is far faster on a batch than
        text by text)."""
        self._foreseen, self._only = set(), only
        try:
            yield
            wanted = sorted(self._foreseen)
        finally:
            self._foreseen = self._only = None
        if wanted:
            self.source.vectors(wanted)

    def choose(self, headline_id: str, open_clusters: Mapping[str, Sequence[str]]) -> tuple[str, float] | None:
        """(cluster id, cosine) of the best open cluster at or above the bar, or None; `open_clusters` maps each
        open cluster to the headline's candidates among its members (one `vectors` call for all of them)."""
        if not open_clusters:
            return None
        ids = [headline_id, *(m for ms in open_clusters.values() for m in ms)]
        found = self.source.vectors(ids, embed=self._foreseen is None)
        if self._foreseen is not None and (self._only is None or headline_id in self._only):
            self._foreseen.update(i for i in ids if i not in found)
        mine = found.get(headline_id)
        if mine is None:
            return None
        best = None
        for cid in sorted(open_clusters):
            theirs = [found[m] for m in open_clusters[cid] if m in found]
            sim = float(np.max(np.stack(theirs) @ mine)) if theirs else 0.0
            if sim >= self.params.bar and (best is None or sim > best[1]):
                best = (cid, sim)
        return best
