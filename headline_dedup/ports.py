"""What the engine needs from storage, as Protocols, and the plain data that crosses them.

Both are batch-shaped so that a Redis implementation needs a fixed number of round trips per batch:
`CandidateIndex.insert_and_query` (one atomic step), `StateStore.load` and `StateStore.commit`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

from datasketch import LeanMinHash

from headline_dedup.clustering import ClusterProfile, Decision


@dataclass(frozen=True)
class Headline:
    """One input headline. `timestamp` (seconds since the epoch) drives the sliding window; `lead` is the first
    sentence of the article's body when the headline came with one (`leads.lead_sentence`)."""

    id: str
    text: str
    lang: str = "fr"
    source: str | None = None
    timestamp: float = 0.0
    lead: str | None = None


@dataclass(frozen=True)
class IndexEntry:
    headline_id: str
    signature: LeanMinHash
    timestamp: float
    vector: Any = None  # a unit sentence vector (numpy) when the engine has an encoder
    words: tuple[int, ...] = ()  # word-vector rows of its content words (word-vector candidates only)


@dataclass
class Snapshot:
    """The state a batch is decided against, as loaded before deciding."""

    df: dict[str, int]  # document frequency of the batch's tokens and of every token of `profiles`
    total: int  # headlines counted so far
    exact: dict[str, str]  # exact-duplicate key -> cluster id (only keys of this batch)
    assignment: dict[str, str]  # candidate headline id -> cluster id (only candidates)
    profiles: dict[str, ClusterProfile]  # every cluster named in `exact` or `assignment`
    placed: set[str] = field(default_factory=set)  # candidates an editor placed (`corrections`)


@dataclass
class BatchOutcome:
    """Everything a batch changes, handed to `StateStore.commit` in one piece."""

    decisions: list[Decision] = field(default_factory=list)
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)  # headline id -> tokens (counted in df)
    exact_keys: dict[str, str] = field(default_factory=dict)  # new exact key -> cluster id
    profiles: dict[str, ClusterProfile] = field(default_factory=dict)  # final state of touched clusters


class CandidateIndex(Protocol):
    """An index on a server may also offer `begin_insert_and_query(entries, copies)`: the same, in two halves
    (it returns the call that waits for the answer), so the engine searches by meaning while the server works."""

    def insert_and_query(self, entries: Sequence[IndexEntry], copies: frozenset[str] = frozenset()
                         ) -> list[list[str]]:
        """For each entry in order: the ids of indexed headlines sharing a band (earlier entries of the same
        call included, itself excluded), then insert it. Atomic as a whole. `copies`: entries whose text was
        seen before (their twin decides them): an index may skip searching for them."""

    def query(self, entries: Sequence[IndexEntry]) -> list[list[str]]:
        """For each entry: the ids of indexed headlines sharing a band. Changes nothing (dry runs)."""


class StateStore(Protocol):
    def seen_keys(self, exact_keys: Sequence[str]) -> set[str]:
        """Those of `exact_keys` already recorded (their headlines need no candidates: they join their twin)."""

    def load(self, exact_keys: Sequence[str], tokens: Sequence[str], candidates: Sequence[str]) -> Snapshot:
        """Read what deciding a batch needs."""

    def commit(self, outcome: BatchOutcome) -> None:
        """Write a batch's outcome, all or nothing."""
