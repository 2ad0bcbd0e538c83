"""Verification: how well a headline matches a cluster. The only module that imports rapidfuzz.

A cluster is summarised by its profile: for each token, the fraction of its members that contain it. The score
is the harmonic mean of two rarity-weighted coverages:

- *containment*: how much of the headline's weight the cluster explains (each shared token counts by the
  fraction of members that have it, so a word only one member used counts little);
- *coverage*: how much of the cluster's weighted profile the headline covers.

Conflicts multiply the score down (`Match.conflicts` names them):

- *numbers*: the headline's numbers and the cluster's core numbers disagree entirely (`NUMBER_CONFLICT`);
- *dates*: instead of numbers, when the headline names a day of a month and the cluster, dated too, names
  other days only: another day's edition of a daily item (`DATE_CONFLICT`);
- *kicker*: the headline and the cluster's representative both open with a kicker ("Laval.", "Quimper."), and
  neither kicker appears in the other side: the same template run for two towns (`KICKER_CONFLICT`).

A headline that shares with a cluster only words of when (weekdays, months, the day of a date) does not match it.

Against a one-member cluster this is the rarity-weighted Dice coefficient of the two token sets, which is what
`pair_score` returns. Tokens that differ only by a stemming miss ("enqueteur"/"enquet") are matched softly with
rapidfuzz's normalised Indel similarity on the already-normalised tokens (`processor=None` on purpose: the
normaliser is the processor), at a cut-off that lets suffixes vary but not words.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import mul
from typing import Mapping, Sequence

from rapidfuzz import fuzz, process

from headline_dedup.weights import MONTH_TOKENS, Rarity, is_temporal

SOFT_MATCH_CUTOFF = 84.0
SOFT_MATCH_MIN_LEN = 5
SOFT_MATCH_MAX_SUFFIX = 3
SOFT_MATCH_DISCOUNT = 0.8  # a soft match counts for a bit less than an exact one
NUMBER_CONFLICT = 0.7  # score factor when the numbers disagree (measured on STS pairs and the dev set)
DATE_CONFLICT = 0.5  # instead, when the numbers that disagree are days of a month both sides name
KICKER_CONFLICT = 0.5  # score factor when the kickers name different things (measured on the dev set)


@dataclass(frozen=True, slots=True)
class Match:
    """Details of one headline-versus-cluster comparison."""

    score: float
    containment: float
    coverage: float
    shared: tuple[str, ...]  # headline tokens found in the cluster (exactly or softly)
    core_shared: tuple[str, ...]  # shared, non-temporal tokens that a strict majority of the members have
    core_rarity: float  # summed IDF of `core_shared`, in units of `Rarity.max_idf`
    conflicts: tuple[str, ...] = ()  # "numbers" or "dates", "kicker": what multiplied the score down


def is_core(count: int, size: int) -> bool:
    """A token is in a cluster's core when a strict majority of members have it: in a two-member cluster,
    both (a plain half would let a bridging member's own words count as the cluster's)."""
    return count * 2 > size


def _is_figure(token: str) -> bool:
    return token[0].isdigit() and not is_temporal(token)


def _numbers_conflict(mine: set[str], counts: Mapping[str, int], size: int) -> bool:
    """The headline has figures, the cluster's core has figures, and they share none: "0.1%" vs "1.1%",
    "6 soldats" vs "3 soldats" are other stories (or other figures) far more often than rewrites. Years are
    not figures here: they say when, and "Euro 2020" names the same tournament as "Euro"."""
    own = [t for t in mine if t[0].isdigit() and not is_temporal(t)]  # `_is_figure`, inlined: most have none
    if not own or any(t in counts for t in own):
        return False
    return any(_is_figure(t) and is_core(c, size) for t, c in counts.items())


def _day(token: str) -> str | None:
    """The day of the month a token can be ("11", "1er" -> "1")."""
    day = token[:-2] if token.endswith("er") else token
    return day if day.isdigit() and 1 <= int(day) <= 31 else None


def _dated_days(tokens: Sequence[str]) -> dict[str, str]:
    """The tokens of a headline that are the day of a date (a month follows), and the day each names."""
    days = {}
    for d, m in zip(tokens, tokens[1:]):
        if m in MONTH_TOKENS and (day := _day(d)):
            days[d] = day
    return days


def _only_when(shared: Sequence[str], tokens: Sequence[str]) -> bool:
    """Whether all the headline shares with a cluster says when, not what: "vendredi", "janvier", and the day of
    a date ("C'est Votre Argent - Vendredi 14 janvier" and "le bilan de ce vendredi 14 janvier")."""
    if not all(is_temporal(t) or t[0].isdigit() for t in shared):  # the common case: something else is shared
        return False
    dated = _dated_days(tokens)
    return all(is_temporal(t) or t in dated for t in shared)


def _dates_conflict(tokens: Sequence[str], counts: Mapping[str, int], size: int) -> bool:
    """The headline names a day of a month ("mardi 11 janvier"), the cluster's core names a month, and its
    members name other days but never this one: yesterday's or tomorrow's edition of a daily item ("le bilan
    de ce jeudi 13 janvier"), not a rewrite. Called once the figures conflict."""
    days = set(_dated_days(tokens).values())
    if not days or not any(is_core(c, size) for m, c in counts.items() if m in MONTH_TOKENS):
        return False
    theirs = {_day(t) for t in counts if t[0].isdigit()} - {None}
    return bool(theirs) and not theirs & days


def _kickers_conflict(kicker: Sequence[str], tokens: set[str], cluster_kicker: Sequence[str],
                      counts: Mapping[str, int]) -> bool:
    """Both kickers have a word of their own ("meteo tour" / "meteo colmar"), and neither side mentions the
    other's anywhere."""
    if not kicker or not cluster_kicker:
        return False
    mine = set(kicker).difference(cluster_kicker)
    theirs = set(cluster_kicker).difference(kicker)
    return (bool(mine) and bool(theirs) and not any(t in counts for t in mine)
            and not any(t in tokens for t in theirs))


def _soft_lookup(token: str, vocabulary: Sequence[str]) -> str | None:
    if len(token) < SOFT_MATCH_MIN_LEN or token[0].isdigit() or not vocabulary:
        return None
    found = process.extractOne(token, vocabulary, scorer=fuzz.ratio, processor=None, score_cutoff=SOFT_MATCH_CUTOFF)
    if found is not None:
        other = found[0]
        # Only suffix variation: the shorter word must start the longer one up to its last two letters.
        short, long_ = sorted((token, other), key=len)
        return other if long_.startswith(short[:-2]) else None
    # Snowball leaves French verb endings such as "-ent" ("attendent" / "attend"): a whole word plus at most
    # SOFT_MATCH_MAX_SUFFIX letters is the same word, even where the ratio is below the cut-off.
    for other in vocabulary:
        short, long_ = (token, other) if len(token) <= len(other) else (other, token)
        if (len(short) >= SOFT_MATCH_MIN_LEN and len(long_) - len(short) <= SOFT_MATCH_MAX_SUFFIX
                and long_.startswith(short)):
            return other
    return None


NO_MATCH = Match(0.0, 0.0, 0.0, (), (), 0.0)


def match_profile(tokens: Sequence[str], counts: Mapping[str, int], size: int, rarity: Rarity,
                  min_score: float = 0.0, kicker: Sequence[str] = (), cluster_kicker: Sequence[str] = ()) -> Match:
    """Score a headline's tokens against a cluster profile (`counts[t]` members of `size` contain t); `kicker`
    is the headline's kicker tokens, `cluster_kicker` the cluster representative's.

    Below `min_score` the result is `NO_MATCH`: the containment alone bounds the score (at most 2c / (c + 1)),
    so most LSH candidates are dismissed before the cluster's whole profile is weighed.
    """
    mine = set(tokens)
    weight = rarity.weight
    own_total = sum(map(weight, mine))
    if own_total <= 0:
        return NO_MATCH
    # The cluster's words the headline lacks, and their first two letters (a soft partner always shares them, see
    # `_soft_lookup`): listed only once a token of the headline could have a soft partner, which most lack.
    unmatched_vocab: list[str] | None = None
    prefixes: set[str] = set()
    shared_in = shared_cl = 0.0
    shared: list[str] = []
    core: list[str] = []
    for t in mine:
        count = counts.get(t)
        if count is not None:
            other, factor = t, 1.0
        else:
            if len(t) < SOFT_MATCH_MIN_LEN or t[0].isdigit():  # `_soft_lookup` would find nothing
                continue
            if unmatched_vocab is None:
                unmatched_vocab = [v for v in counts if v not in mine]
                prefixes = {v[:2] for v in unmatched_vocab}
            if t[:2] not in prefixes:
                continue
            other, factor = _soft_lookup(t, unmatched_vocab), SOFT_MATCH_DISCOUNT
            if other is None:
                continue
            count = counts[other]
        frac = count / size
        shared_in += weight(t) * frac * factor
        shared_cl += weight(other) * frac * factor
        shared.append(t)
        if factor == 1.0 and is_core(count, size) and not is_temporal(t):
            core.append(t)
    if not shared or _only_when(shared, tokens):
        return NO_MATCH
    conflicts = []
    penalty = 1.0
    if _numbers_conflict(mine, counts, size):
        dates = _dates_conflict(tokens, counts, size)
        conflicts.append("dates" if dates else "numbers")
        penalty *= DATE_CONFLICT if dates else NUMBER_CONFLICT
    if _kickers_conflict(kicker, mine, cluster_kicker, counts):
        conflicts.append("kicker")
        penalty *= KICKER_CONFLICT
    shared_in *= penalty
    shared_cl *= penalty
    containment = shared_in / own_total
    if 2 * containment / (containment + 1) < min_score:
        return NO_MATCH
    profile_total = sum(map(mul, map(weight, counts), counts.values())) / size
    coverage = min(1.0, shared_cl / profile_total) if profile_total > 0 else 0.0
    score = 2 * containment * coverage / (containment + coverage) if containment + coverage else 0.0
    return Match(score, containment, coverage, tuple(sorted(shared)), tuple(sorted(core)),
                 sum(rarity.idf(t) for t in core) / rarity.max_idf, tuple(conflicts))


def pair_score(a: Sequence[str], b: Sequence[str], rarity: Rarity, a_kicker: Sequence[str] = (),
               b_kicker: Sequence[str] = ()) -> Match:
    """Score two headlines (b as a one-member cluster): rarity-weighted Dice with soft token matches."""
    return match_profile(a, {t: 1 for t in set(b)}, 1, rarity, kicker=a_kicker, cluster_kicker=b_kicker)


def text_ratio(a: str, b: str) -> float:
    """Plain normalised Indel similarity of two normalised texts, 0-1 (reported by `explain`)."""
    return fuzz.ratio(a, b, processor=None) / 100.0
