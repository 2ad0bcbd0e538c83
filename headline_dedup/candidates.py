"""A batch's candidates: for each headline, the earlier ones that share a MinHash band with it (the band index)
and its nearest by meaning (the dense index, see `vectors`), found together. A band index on a server answers
while this process searches by meaning; in one process the two searches run in turn.
"""
from __future__ import annotations

from itertools import chain
from typing import Sequence

from headline_dedup.ports import CandidateIndex, Headline, IndexEntry
from headline_dedup.signatures import Signer
from headline_dedup.vectors import DenseSearch

class CandidateFinder:
    """The band index and, if any, the dense search beside it; `judged`: a semantic judge decides what only
    meaning found (so an encoder without words to align lets none of it to the lexical rules)."""

    def __init__(self, index: CandidateIndex, signer: Signer, dense: DenseSearch | None = None,
                 judged: bool = False):
        self.index, self.signer, self.dense, self.judged = index, signer, dense, judged

    def entries(self, headlines: Sequence[Headline], signatures) -> list[IndexEntry]:
        """Index entries; with `dense`, each carries its vector (and its word rows, for word vectors: the band
        index stores them where a service's processes mirror them)."""
        if self.dense is None or not headlines:
            return [IndexEntry(h.id, s, h.timestamp) for h, s in zip(headlines, signatures)]
        texts = [h.text for h in headlines]
        encode_words = getattr(self.dense.encoder, "encode_words", None)
        if encode_words is not None:
            vectors, words = encode_words(texts)
        else:
            vectors, words = self.dense.encoder.encode(texts), [()] * len(texts)
        return [IndexEntry(h.id, s, h.timestamp, v, w) for h, s, v, w in zip(headlines, signatures, vectors, words)]

    def find(self, entries: list[IndexEntry], copies: frozenset[str], twinned: frozenset[str], dry_run: bool
             ) -> tuple[list[list[str]], list[list[str]] | None]:
        """Each entry's candidates by words (the `copies` are inserted, not searched for), and by meaning (None
        without a dense search; none for the `twinned`), inserting the entries unless `dry_run`."""
        dense = self.dense.index if self.dense is not None and entries else None
        if dry_run:  # what the batch would do: its earlier headlines are candidates as in a real run
            found = [[*a, *b] for a, b in zip(self.index.query(entries), self._batch_mates(entries))]
            return found, dense.query(entries, within=True, skip=twinned) if dense is not None else None
        if dense is None:
            return self.index.insert_and_query(entries, copies), None
        dense.refresh()  # what other processes added, before this batch adds itself
        begin = getattr(self.index, "begin_insert_and_query", None)
        if begin is None:
            return self.index.insert_and_query(entries, copies), dense.insert_and_query(entries, twinned)
        finish = begin(entries, copies)  # an index on a server answers while this process searches by meaning
        near = dense.insert_and_query(entries, twinned)
        return finish(), near

    def words_for_agreement(self, entries: list[IndexEntry], near: list[list[str]]
                            ) -> dict[str, Sequence[int]] | None:
        """The word rows `agrees` reads for these entries and their neighbours by meaning (`near`), taken now:
        the index may have moved on by the time a decision asks. None for an encoder without words to align."""
        if getattr(self.dense.encoder, "alignment", None) is None or self.dense.min_alignment is None:
            return None
        words = {e.headline_id: e.words for e in entries}
        for other in chain.from_iterable(near):
            if other not in words:
                words[other] = self.dense.index.words_of(other)
        return words

    def agrees(self, words: dict[str, Sequence[int]] | None, headline_id: str, other: str) -> bool:
        """Whether a neighbour by meaning agrees with a headline in words (`DenseSearch.min_alignment`), from
        `words_for_agreement`. An encoder without words to align: every neighbour agrees, or none when a judge
        is there to judge them."""
        if words is None:
            return not self.judged
        return self.dense.encoder.alignment(words[headline_id], words[other]) >= self.dense.min_alignment

    def vector_of(self, headline_id: str):
        """The candidate vector of an earlier headline still in the dense index (None if it has left)."""
        return self.dense.index.vector_of(headline_id) if self.dense is not None else None

    def time_of(self, headline_id: str) -> float | None:
        """The timestamp of an earlier headline still in the dense index (None if it has left, or without one)."""
        return self.dense.index.time_of(headline_id) if self.dense is not None else None

    def _batch_mates(self, entries: list[IndexEntry]) -> list[list[str]]:
        """For each entry, the earlier entries of the batch that share a band with it."""
        seen: dict[bytes, list[str]] = {}
        out = []
        for e in entries:
            mates: dict[str, None] = {}
            bands = self.signer.band_keys(e.signature)
            for band in bands:
                mates.update(dict.fromkeys(seen.get(band, ())))
            for band in bands:
                seen.setdefault(band, []).append(e.headline_id)
            out.append(list(mates))
        return out
