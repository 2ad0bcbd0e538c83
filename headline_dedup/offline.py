"""Clustering a whole feed in one process: the engine with the in-memory adapters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from headline_dedup.clustering import Decision
from headline_dedup.engine import Engine, EngineConfig
from headline_dedup.errors import InvalidHeadline
from headline_dedup.feeds import FeedRow
from headline_dedup.leads import lead_sentence
from headline_dedup.memory import MemoryIndex, MemoryStore
from headline_dedup.normalize import Normalizer
from headline_dedup.ports import Headline
from headline_dedup.signatures import Signer
from headline_dedup.semantic import JudgeParams, MemoryVectors, SemanticJudge
from headline_dedup.vectors import DenseIndex, DenseSearch, Encoder
from headline_dedup.wordvectors import WordVectorEncoder
from headline_dedup.weights import document_frequencies

DEFAULT_WINDOW_SECONDS = 72 * 3600


@dataclass(frozen=True)
class DenseParams:
    """How many neighbours by meaning become candidates, and how close they must be."""

    k: int
    min_cosine: float
    min_alignment: float | None = None  # word vectors without a judge: the words must agree this well


def dense_params(encoder: Encoder, judged: bool) -> DenseParams:
    """Measured on the editor-judged dev pairs (bench/results/quality.md). Word vectors: the 10 nearest; without a
    judge only those whose words align at 0.65 or more (below, the lexical rules join other stories). e5 without a
    judge: the 5 nearest at cosine 0.92 or more (below 0.92, read blind: 16 SAME, 25 DIFF of 47 new pairs)."""
    if isinstance(encoder, WordVectorEncoder):
        return DenseParams(10, 0.5, None if judged else 0.65)
    return DenseParams(5, 0.0 if judged else 0.92)


def memory_engine(config: EngineConfig | None = None, normalizer: Normalizer | None = None,
                  window_seconds: float = DEFAULT_WINDOW_SECONDS,
                  history: tuple[dict[str, int], int] | None = None, candidates: Encoder | None = None,
                  judge: Encoder | None = None, dense: DenseParams | None = None,
                  judge_params: JudgeParams | None = None) -> Engine:
    """The engine on in-memory adapters; `history` is (df, total) learned beforehand (`history_frequencies`);
    `candidates`: an encoder whose nearest earlier headlines are candidates too (`dense`, by default
    `dense_params`); `judge`: the semantic verifier tier's encoder (`semantic`)."""
    config = config or EngineConfig()
    index = MemoryIndex(Signer(config.signature), window_seconds=window_seconds)
    search = None
    if candidates is not None:
        p = dense or dense_params(candidates, judge is not None)
        agree = None
        if p.min_alignment is not None:
            align, floor = candidates.alignment, p.min_alignment
            agree = lambda a, b: align(a, b) >= floor  # noqa: E731
        search = DenseSearch(candidates, DenseIndex(candidates.dim, p.k, p.min_cosine, window_seconds, agree))
    semantic = None
    if judge is not None:
        semantic = SemanticJudge(MemoryVectors(judge), judge_params)
    return Engine(index, MemoryStore(*(history or ())), config, normalizer, dense=search, judge=semantic)


def history_frequencies(rows: Iterable[FeedRow], normalizer: Normalizer, lang: str = "fr"
                        ) -> tuple[dict[str, int], int]:
    """Document frequencies of earlier headlines, as a running service would have learned them (only those:
    their clusters and index entries are not kept). Headlines the engine would reject are skipped."""
    def tokens():
        for row in rows:
            try:
                tokens = normalizer.normalize(row.text, lang).tokens
            except InvalidHeadline:
                continue
            if tokens:  # the engine rejects a headline without content tokens, and does not count it
                yield tokens
    return document_frequencies(tokens())


def cluster_rows(rows: Iterable[FeedRow], engine: Engine, lang: str = "fr", batch_size: int = 1000,
                 progress: Callable[[int], None] | None = None) -> Iterator[tuple[FeedRow, Decision]]:
    """Yield (row, decision) in input order, deciding `batch_size` rows at a time."""
    batch: list[FeedRow] = []

    def flush():
        decisions = engine.process([Headline(r.id, r.text, lang, None, r.timestamp, lead_sentence(r.body))
                                    for r in batch])
        if progress:
            progress(len(batch))
        yield from zip(batch, decisions)
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()
