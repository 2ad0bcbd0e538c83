"""Clustering a whole feed in one process: the engine with the in-memory adapters."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from headline_dedup import lookahead
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
from headline_dedup.vectors import DenseParams, DenseSearch, Encoder, dense_index, dense_params
from headline_dedup.weights import document_frequencies

DEFAULT_WINDOW_SECONDS = 72 * 3600


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
        params = dense or dense_params(candidates, judge is not None)
        search = DenseSearch(candidates, dense_index(candidates, params, window_seconds), params.min_alignment)
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
                 progress: Callable[[int], None] | None = None, ahead: bool = False
                 ) -> Iterator[tuple[FeedRow, Decision]]:
    """Yield (row, decision) in input order, deciding `batch_size` rows at a time; `ahead`: find each batch's
    candidates in a second process while the one before is decided (`lookahead`; where it is available, with
    the same decisions)."""
    batches = _batches(rows, lang, batch_size)
    if ahead and lookahead.available(engine):
        decided = ((batch, engine.decide(headlines, found))
                   for batch, headlines, found in lookahead.found_ahead(batches, engine))
    else:
        decided = ((batch, engine.process(headlines)) for batch, headlines in batches)
    for batch, decisions in decided:
        if progress:
            progress(len(batch))
        yield from zip(batch, decisions)


def _batches(rows: Iterable[FeedRow], lang: str, size: int) -> Iterator[tuple[list[FeedRow], list[Headline]]]:
    def headlines(batch):
        return [Headline(r.id, r.text, lang, None, r.timestamp, lead_sentence(r.body)) for r in batch]

    batch: list[FeedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch, headlines(batch)
            batch = []
    if batch:
        yield batch, headlines(batch)
