"""Sentence vectors as a second source of candidates: the nearest earlier headlines by meaning, beside the MinHash
bands, while the engine's own rules still decide.

`Encoder` is the port (text in, unit vectors out); adapters live in `headline_dedup.encoders` and
`headline_dedup.wordvectors`. `DenseIndex` is an exact search over the window's vectors (one matrix product per
batch); the engine asks it beside the band index and knows which candidates only meaning found.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from headline_dedup.ports import IndexEntry


TOP_GROUPS = 16  # a row's columns, dealt into this many strided groups to find its best (`_top_columns`)
SEARCH_ROWS = 64  # entries scored at once (a 64 x window float32 matrix: small blocks stay in the CPU's caches)


class Encoder(Protocol):
    name: str  # recorded in the index fingerprint: two encoders never meet in one index
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 rows of unit length."""


@dataclass
class DenseSearch:
    """Sentence-vector candidates: an encoder, the index that searches its vectors, and how well a neighbour's
    words must agree with the headline's for the lexical rules to judge it (word vectors; None: any)."""

    encoder: Encoder
    index: "DenseIndex"
    min_alignment: float | None = None


class DenseIndex:
    """The window's vectors in one growing matrix; each entry's `k` nearest earlier entries with cosine at least
    `min_cosine` are its candidates. Entries older than `window_seconds` before the newest leave it, and past
    `max_entries` the oldest do (a search costs one pass over the matrix: a list of headlines without times would
    otherwise keep every one of them in the window)."""

    def __init__(self, dim: int, k: int = 5, min_cosine: float = 0.0, window_seconds: float = 72 * 3600,
                 max_entries: int = 20_000):
        self.k, self.min_cosine, self.window_seconds = k, min_cosine, window_seconds
        self.max_entries = max_entries
        self._vectors = np.zeros((1024, dim), dtype=np.float32)
        self._ids: list[str] = []
        self._words: list[Sequence[int]] = []
        self._position: dict[str, int] = {}  # id -> its row, for the ids in the window
        self._times: list[float] = []
        self._start = 0  # rows before this one have left the window
        self._newest = float("-inf")

    def __len__(self) -> int:
        return len(self._ids) - self._start

    def __contains__(self, headline_id: str) -> bool:
        return headline_id in self._position

    def words_of(self, headline_id: str) -> Sequence[int]:
        """The word rows of an entry in the window (empty if it has left)."""
        row = self._position.get(headline_id)
        return () if row is None else self._words[row]

    def vector_of(self, headline_id: str) -> np.ndarray | None:
        """The vector of an entry in the window (None if it has left)."""
        row = self._position.get(headline_id)
        return None if row is None else self._vectors[row]

    def time_of(self, headline_id: str) -> float | None:
        """The timestamp of an entry in the window (None if it has left)."""
        row = self._position.get(headline_id)
        return None if row is None else self._times[row]

    def refresh(self) -> int:
        """Take in what other processes added; returns how many (none here: one process holds this index; see
        `storage.dense`). The engine calls it before each insert."""
        return 0

    def add(self, entries: Sequence[IndexEntry]) -> None:
        """Insert without searching (entries indexed elsewhere: a mirror catching up)."""
        if entries:
            self._advance(entries)
            self._append(entries, np.stack([e.vector for e in entries]).astype(np.float32))

    def insert_and_query(self, entries: Sequence[IndexEntry], skip: frozenset[str] = frozenset()
                         ) -> list[list[str]]:
        """Each entry's nearest earlier entries (none for the ids in `skip`: searched for nothing, still
        inserted), then insert them all."""
        return self._search(entries, insert=True, skip=skip)

    def query(self, entries: Sequence[IndexEntry], within: bool = False, skip: frozenset[str] = frozenset()
              ) -> list[list[str]]:
        """Like `insert_and_query` without inserting; `within`: earlier entries of the call count too."""
        return self._search(entries, insert=False, within=within, skip=skip)

    def _search(self, entries: Sequence[IndexEntry], insert: bool, within: bool = True,
                skip: frozenset[str] = frozenset()) -> list[list[str]]:
        if not entries:
            return []
        batch = np.stack([e.vector for e in entries]).astype(np.float32)
        self._advance(entries)
        window = self._vectors[self._start:len(self._ids)]
        names = self._ids[self._start:] + [e.headline_id for e in entries]
        out: list[list[str]] = [[] for _ in entries]
        asked = np.array([i for i, e in enumerate(entries) if e.headline_id not in skip], dtype=np.intp)
        width = len(window) + (len(entries) if within else 0)
        for lo in range(0, len(asked), SEARCH_ROWS):  # bounded memory: a few rows of scores at a time
            rows = asked[lo:lo + SEARCH_ROWS]
            # The products go straight into one block: copying a (rows x window) matrix costs more than computing it.
            scores = np.empty((len(rows), width), dtype=np.float32)
            np.matmul(batch[rows], window.T, out=scores[:, :len(window)])
            if within:  # an entry also finds the batch's earlier entries, as the band index does
                inside = scores[:, len(window):]
                np.matmul(batch[rows], batch.T, out=inside)
                inside[rows[:, None] <= np.arange(len(entries))[None, :]] = -np.inf
            for i, cols in zip(rows, self._nearest(scores)):
                out[i] = [names[j] for j in cols if names[j] != entries[i].headline_id]
        if insert:
            self._append(entries, batch)
        return out

    def _nearest(self, scores: np.ndarray) -> list[list[int]]:
        """Per row, the columns of the `k` highest scores at least `min_cosine`, best first (ties: the earlier
        column first)."""
        k = min(self.k, scores.shape[1])
        if k == 0:
            return [[] for _ in range(len(scores))]
        cols = _top_columns(scores, k)
        values = np.take_along_axis(scores, cols, axis=1)
        order = np.lexsort((cols, -values), axis=1)
        cols, values = np.take_along_axis(cols, order, axis=1), np.take_along_axis(values, order, axis=1)
        keep = values >= self.min_cosine
        return [row[ok].tolist() for row, ok in zip(cols, keep)]

    def _append(self, entries: Sequence[IndexEntry], batch: np.ndarray) -> None:
        need = len(self._ids) + len(entries)
        if need > len(self._vectors):
            if self._start > len(self._ids) // 2:  # compact: drop the rows that left the window
                self._vectors[: len(self._ids) - self._start] = self._vectors[self._start:len(self._ids)]
                self._ids, self._times = self._ids[self._start:], self._times[self._start:]
                self._words = self._words[self._start:]
                self._position = {hid: n for n, hid in enumerate(self._ids)}
                self._start = 0
                need = len(self._ids) + len(entries)
            if need > len(self._vectors):
                grown = np.zeros((max(need, 2 * len(self._vectors)), self._vectors.shape[1]), dtype=np.float32)
                grown[:len(self._ids)] = self._vectors[:len(self._ids)]
                self._vectors = grown
        self._vectors[len(self._ids):need] = batch
        self._ids += [e.headline_id for e in entries]
        self._times += [e.timestamp for e in entries]
        self._position.update((e.headline_id, len(self._words) + n) for n, e in enumerate(entries))
        self._words += [e.words for e in entries]

    def _advance(self, entries: Sequence[IndexEntry]) -> None:
        """Time moves to the newest of `entries`: what is now out of the window leaves it."""
        self._newest = max(self._newest, max(e.timestamp for e in entries))
        self._evict()

    def _evict(self) -> None:
        horizon = self._newest - self.window_seconds
        while self._start < len(self._ids) and (self._times[self._start] < horizon
                                                or len(self._ids) - self._start > self.max_entries):
            if self._position.get(self._ids[self._start]) == self._start:
                del self._position[self._ids[self._start]]
            self._start += 1


def _top_columns(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, the columns of `k` highest scores, in no order. The columns are dealt into TOP_GROUPS strided
    groups; a row's k best lie in the k groups of highest maxima (a group beaten by k others' maxima has k
    larger scores outside it), so one selection runs over the maxima and one over those groups' columns, where
    a selection over the whole row costs several times more than taking the maxima."""
    rows, width = scores.shape
    span = width - width % TOP_GROUPS
    groups = span // TOP_GROUPS
    if groups <= 2 * k:  # a short window: the whole row at once
        return np.argpartition(scores, -k, axis=1)[:, -k:]
    maxima = scores[:, :span].reshape(rows, TOP_GROUPS, groups).max(axis=1)
    top = np.argpartition(maxima, -k, axis=1)[:, -k:]
    cols = (top[:, :, None] + groups * np.arange(TOP_GROUPS)[None, None, :]).reshape(rows, k * TOP_GROUPS)
    if span < width:  # the last columns, in no group: always looked at
        cols = np.concatenate([cols, np.broadcast_to(np.arange(span, width), (rows, width - span))], axis=1)
    best = np.argpartition(np.take_along_axis(scores, cols, axis=1), -k, axis=1)[:, -k:]
    return np.take_along_axis(cols, best, axis=1)


@dataclass(frozen=True)
class DenseParams:
    """How many neighbours by meaning become candidates, and how close they must be."""

    k: int
    min_cosine: float
    min_alignment: float | None = None  # word vectors: the lexical rules judge a neighbour whose words agree


def dense_params(encoder: Encoder, judged: bool) -> DenseParams:
    """Measured on the editor-judged dev pairs in time order (bench/results/quality.md). Word vectors: the 10
    nearest at cosine 0.5, with a judge too (it embeds only the closest, `JudgeParams.min_cheap_cosine`; at 0.75
    the lexical rules lost the neighbours between: e5 tier recall 0.538 instead of 0.560); the lexical rules
    judge those whose words align at 0.65 or more (below, they join other stories). e5 without a judge: the 5
    nearest at cosine 0.92 or more (below, read blind: 16 SAME, 25 DIFF of 47 new pairs)."""
    if hasattr(encoder, "alignment"):
        return DenseParams(10, 0.5, 0.65)
    return DenseParams(5, 0.0 if judged else 0.92)


def dense_index(encoder: Encoder, params: DenseParams, window_seconds: float) -> DenseIndex:
    """An in-memory index of `encoder`'s vectors searched with `params`."""
    return DenseIndex(encoder.dim, params.k, params.min_cosine, window_seconds)
