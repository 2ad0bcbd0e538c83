"""The assignment policy: which cluster a headline joins, or whether it opens one.

Rules, in order:

1. A headline with no content token is rejected (`empty`). One with fewer than `min_tokens` distinct content
   tokens is kept as a singleton (`too_short`): it never joins or attracts a cluster through similarity, only
   through an exact duplicate of its normalised text.
2. An exact duplicate after normalisation joins the cluster of its twin at once (`exact`); so does an article
   whose lead sentence (the body's first, `leads`) is an exact duplicate of an earlier one's (`lead`).
3. Otherwise every candidate cluster (one whose member the LSH index returned) is scored with
   `verify.match_profile`: the headline against the cluster's whole profile, never against one member, so a
   headline that bridges two stories cannot pull them together and a cluster cannot drift member by member.
   The best cluster is joined when
   - its score reaches `threshold`, the verifier's own bar for "same story" with nothing else known (`similar`);
   - or the story is live (its newest member is at most `live_hours` older than the headline) and the score
     reaches `live_threshold` (`live`): rewrites of a story come in bursts, and a middling match hours after
     a story went quiet is, on the dev set, more often another story (a follow-up, the same template) than a
     rewrite;
   - or, for a cluster of at least `core_min_size` members, the score reaches `core_threshold` and the
     headline contains at least `core_min_tokens` of the tokens a strict majority of members share, of summed
     IDF at least `core_min_rarity` times the IDF of a never-seen token (IDF grows with the log of the stream's
     length: in these units the bar means the same early in a stream and late), and nothing conflicts
     (figures, kickers; see `verify`) (`core`): a story told from another angle keeps its core ("crash",
     "iran", "boeing") while the rest of the words change.
4. Else the headline opens a new cluster (`new`), whose id derives from the headline's id (stable, and the same
   when a message is processed twice).

Representative: the founder, until a member covers the cluster profile better by `representative_margin`
(coverage = the member's rarity-weighted share of tokens that most members use); compared on every join
against the current representative only, so the choice is cheap, stable and explainable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from headline_dedup.verify import Match, is_core, match_profile
from headline_dedup.weights import Rarity


@dataclass(frozen=True)
class PolicyParams:
    """Thresholds of the assignment policy (defaults measured on the dev set; see README)."""

    threshold: float = 0.6  # the verifier's bar: a pair above it is the same story, whenever it arrives
    live_threshold: float = 0.45  # the bar for joining a live story
    live_hours: float = 6.0  # a story is live while its newest member is at most this much older
    core_threshold: float = 0.3
    core_min_size: int = 2
    core_min_tokens: int = 3
    core_min_rarity: float = 2.05  # about two never-seen tokens' worth of IDF; 18 IDF on the dev set
    min_tokens: int = 2
    representative_margin: float = 0.05


@dataclass
class ClusterProfile:
    """What the policy knows of a cluster: token counts over members, size, representative."""

    cluster_id: str
    size: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    representative_id: str = ""
    representative_tokens: tuple[str, ...] = ()
    representative_kicker: int = 0  # the representative's kicker is its first this many tokens
    latest: float = 0.0  # the newest member's timestamp (seconds since the epoch)
    apart: frozenset[str] = frozenset()  # clusters an editor set apart from this one (`corrections`)

    def copy(self) -> "ClusterProfile":
        return ClusterProfile(self.cluster_id, self.size, dict(self.counts), self.representative_id,
                              self.representative_tokens, self.representative_kicker, self.latest, self.apart)

    @property
    def representative_kicker_tokens(self) -> tuple[str, ...]:
        return self.representative_tokens[:self.representative_kicker]

    def add(self, tokens: Sequence[str], timestamp: float = 0.0) -> None:
        self.size += 1
        self.latest = max(self.latest, timestamp)
        for t in set(tokens):
            self.counts[t] = self.counts.get(t, 0) + 1


@dataclass(frozen=True)
class Decision:
    """The outcome for one headline. `cluster_id` is None only for rejected headlines."""

    headline_id: str
    cluster_id: str | None
    reason: str  # new | exact | lead | similar | live | core | semantic | too_short | empty
    score: float = 0.0
    created: bool = False
    representative_changed: bool = False
    match: Match | None = None
    runner_up: tuple[str, float] | None = None
    cluster_size: int = 0  # the cluster's size once this headline is in it
    semantic: float | None = None  # the semantic judge's cosine, when it made the decision


def profile_coverage(tokens: Sequence[str], profile: ClusterProfile, rarity: Rarity) -> float:
    """The share of a member's weight made of the cluster's core tokens."""
    mine = set(tokens)
    total = sum(rarity.weight(t) for t in mine)
    if not total:
        return 0.0
    common = sum(rarity.weight(t) for t in mine if is_core(profile.counts.get(t, 0), profile.size))
    return common / total


class Policy:
    """Scores candidate clusters and decides; pure (no I/O), state lives in the profiles it is given."""

    def __init__(self, params: PolicyParams | None = None):
        self.params = params or PolicyParams()

    def is_live(self, profile: ClusterProfile, now: float) -> bool:
        """Whether a headline at time `now` finds `profile`'s story live (a newer member counts as live too)."""
        return now - profile.latest <= self.params.live_hours * 3600

    def min_score(self, cluster_size: int, live: bool = False) -> float:
        """The lowest score at which a cluster of this size can be joined."""
        p = self.params
        bar = min(p.threshold, p.live_threshold) if live else p.threshold
        return min(bar, p.core_threshold) if cluster_size >= p.core_min_size else bar

    def accepts(self, m: Match, cluster_size: int, live: bool = False) -> str | None:
        """The reason a match is good enough to join (`similar`/`live`/`core`), or None; `live`: the story
        is live for the headline."""
        p = self.params
        if m.score >= p.threshold:
            return "similar"
        if live and m.score >= p.live_threshold:
            return "live"
        if (cluster_size >= p.core_min_size and m.score >= p.core_threshold and not m.conflicts
                and len(m.core_shared) >= p.core_min_tokens and m.core_rarity >= p.core_min_rarity):
            return "core"
        return None

    def match(self, tokens: Sequence[str], profile: ClusterProfile, rarity: Rarity,
              kicker: Sequence[str] = (), min_score: float = 0.0) -> Match:
        """The full lexical comparison of a headline with one cluster (below `min_score`, perhaps `NO_MATCH`:
        see `match_profile`)."""
        return match_profile(tokens, profile.counts, profile.size, rarity, min_score, kicker,
                             profile.representative_kicker_tokens)

    def ranked(self, tokens: Sequence[str], profiles: Sequence[ClusterProfile], rarity: Rarity,
               kicker: Sequence[str] = (), now: float = 0.0) -> list[tuple[Match, ClusterProfile, str | None]]:
        """Every non-empty profile's (match, profile, reason it is acceptable or None), best score first; `kicker`
        is the headline's kicker tokens, `now` its timestamp."""
        scored = []
        for p in profiles:
            if p.size:
                live = self.is_live(p, now)
                m = match_profile(tokens, p.counts, p.size, rarity, self.min_score(p.size, live), kicker,
                                  p.representative_kicker_tokens)
                scored.append((m, p, live))
        scored.sort(key=lambda mp: (-mp[0].score, mp[1].cluster_id))
        return [(m, p, self.accepts(m, p.size, live)) for m, p, live in scored]

    def best(self, tokens: Sequence[str], profiles: Sequence[ClusterProfile], rarity: Rarity,
             kicker: Sequence[str] = (), now: float = 0.0):
        """(best acceptable profile, its match, reason, runner-up (id, score)) among `profiles` (see `ranked`)."""
        scored = self.ranked(tokens, profiles, rarity, kicker, now)
        runner_up = (scored[1][1].cluster_id, scored[1][0].score) if len(scored) > 1 else None
        for m, prof, reason in scored:
            if reason:
                return prof, m, reason, runner_up
        top = scored[0] if scored else (None, None)
        return None, top[0], None, runner_up

    def update_representative(self, profile: ClusterProfile, headline_id: str, tokens: Sequence[str],
                              rarity: Rarity, kicker: int = 0) -> bool:
        """After `tokens` (whose first `kicker` are its kicker) joined `profile`: make it the representative if
        it covers the profile better."""
        if profile.representative_id:
            new = profile_coverage(tokens, profile, rarity)
            current = profile_coverage(profile.representative_tokens, profile, rarity)
            if new <= current + self.params.representative_margin:
                return False
        profile.representative_id, profile.representative_tokens = headline_id, tuple(tokens)
        profile.representative_kicker = kicker
        return True
