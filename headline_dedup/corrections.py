"""Editor corrections, the pure part: a cluster's profile rebuilt from its members after a merge, split or move,
and the rule that keeps the engine from undoing an editor's call.

An editor's split or move sets two clusters *apart* and marks the headlines moved as *placed*. Later, a headline
that could join a cluster set apart from the cluster of a placed headline it resembles (that cluster is
acceptable too) joins the placed headline's cluster: a rewrite of a headline the editor took out of a story does
not go back into it. A merge needs no rule: the members of both sides belong to the merged cluster, so later
rewrites of either find it.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

from headline_dedup.clustering import ClusterProfile, profile_coverage
from headline_dedup.weights import Rarity


class Member(NamedTuple):
    """A member as a profile counts it."""

    id: str
    tokens: tuple[str, ...]
    kicker: int  # its first `kicker` tokens are its kicker
    timestamp: float
    counted: bool = True  # its words count in the profile (not so for a headline the semantic judge joined)


def rebuild(cluster_id: str, members: Sequence[Member], rarity: Rarity,
            keep: Sequence[str] = (), apart: frozenset[str] = frozenset()) -> ClusterProfile:
    """The profile of `members` (counts, size, newest time), its representative the one of `keep` (the sides'
    current representatives, in order of preference) that best covers the new profile, or, when none of them
    is a member any more, the member that does (the earliest on a tie)."""
    profile = ClusterProfile(cluster_id, apart=apart)
    for m in members:
        profile.add(m.tokens if m.counted else (), m.timestamp)
    by_id = {m.id: m for m in members}
    choices = [by_id[i] for i in keep if i in by_id] or list(members)
    if choices:
        _, best = max(enumerate(choices), key=lambda im: (profile_coverage(im[1].tokens, profile, rarity), -im[0]))
        profile.representative_id, profile.representative_tokens = best.id, best.tokens
        profile.representative_kicker = best.kicker
    return profile
