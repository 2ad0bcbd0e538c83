"""The fast paths of the in-memory index, the verifier, the rarity weights and accent folding decide exactly as the code
they replaced (kept here as references): same candidates in the same order, same floats."""
import math
import random
import unicodedata
from collections import OrderedDict

from hypothesis import given, settings, strategies as st

from headline_dedup.memory import MemoryIndex
from headline_dedup.normalize import fold_accents
from headline_dedup.ports import IndexEntry
from headline_dedup.signatures import BAND_FANOUT, SignatureParams, Signer
from headline_dedup.verify import (DATE_CONFLICT, KICKER_CONFLICT, NO_MATCH, NUMBER_CONFLICT, SOFT_MATCH_DISCOUNT,
                                   Match, _dates_conflict, _only_when, _soft_lookup, is_core, match_profile)
from headline_dedup.weights import IDF_PRIOR_DOCUMENTS, TEMPORAL_FACTOR, Rarity, is_temporal


class ReferenceIndex:
    """The index as it was: band keys computed for every entry, buckets read one by one."""

    def __init__(self, signer, window_seconds, max_items):
        self._signer, self.window_seconds, self.max_items = signer, window_seconds, max_items
        self._buckets, self._order, self._by_signature = {}, OrderedDict(), {}
        self._newest = float("-inf")

    def insert_and_query(self, entries):
        out = []
        for e in entries:
            self._newest = max(self._newest, e.timestamp)
            self._evict()
            keys = self._signer.band_keys(e.signature)
            found = {}
            for k in keys:  # a bucket's newest BAND_FANOUT others
                for other in [i for i in self._buckets.get(k, ()) if i != e.headline_id][-BAND_FANOUT:]:
                    found[other] = None
            out.append(list(found))
            if e.headline_id in self._order:
                continue
            twin = self._by_signature.get(b"".join(keys))
            if twin is not None:
                self._order[twin] = (e.timestamp, self._order[twin][1])
                self._order.move_to_end(twin)
                continue
            for k in keys:
                self._buckets.setdefault(k, []).append(e.headline_id)
            self._order[e.headline_id] = (e.timestamp, keys)
            self._by_signature[b"".join(keys)] = e.headline_id
        return out

    def _evict(self):
        horizon = self._newest - self.window_seconds
        while self._order:
            key, (ts, bands) = next(iter(self._order.items()))
            if ts >= horizon and len(self._order) < self.max_items:
                break
            self._order.popitem(last=False)
            self._by_signature.pop(b"".join(bands), None)
            for k in bands:
                self._buckets[k].remove(key)
                if not self._buckets[k]:
                    del self._buckets[k]


SIGNER = Signer(SignatureParams())
WORDS = [f"w{i}" for i in range(12)]


def _stream(seed: int, n: int):
    """Headlines from a small vocabulary (many share bands, many are re-sends), some ids sent twice."""
    rng = random.Random(seed)
    texts = [tuple(rng.sample(WORDS, rng.randint(2, 5))) for _ in range(n // 3)]
    chosen = [rng.choice(texts) for _ in range(n)]
    sigs = SIGNER.sign(chosen)
    t, entries = 0.0, []
    for i, sig in enumerate(sigs):
        t += rng.choice([0.0, 0.0, 1.0, 5.0])
        hid = f"h{rng.randrange(i)}" if i and rng.random() < 0.05 else f"h{i}"
        entries.append(IndexEntry(hid, sig, t))
    return entries


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([(1e9, 10_000), (20.0, 10_000), (1e9, 15), (8.0, 12)]),
       st.sampled_from([1, 7, 50]))
def test_memory_index_finds_what_the_plain_index_found(seed, limits, batch):
    window, max_items = limits
    ours, ref = MemoryIndex(SIGNER, window, max_items), ReferenceIndex(SIGNER, window, max_items)
    entries = _stream(seed, 150)
    for i in range(0, len(entries), batch):
        chunk = entries[i:i + batch]
        assert ours.query(chunk) == _query(ref, chunk)
        assert ours.insert_and_query(chunk) == ref.insert_and_query(chunk)
        assert len(ours) == len(ref._order)
    assert all(ours._shared[h] == sum(len(ours._buckets[k]) > 1 for k in ours._order[h][1]) for h in ours._order)


def _query(ref, entries):
    out = []
    for e in entries:
        found = {o: None for k in SIGNER.band_keys(e.signature)
                 for o in [i for i in ref._buckets.get(k, ()) if i != e.headline_id][-BAND_FANOUT:]}
        out.append(list(found))
    return out


def reference_weight(df, total, token):
    """`Rarity.weight` as it was: IDF squared, temporal tokens scaled first."""
    idf = math.log(total + IDF_PRIOR_DOCUMENTS + 1) + 1.0 - math.log(df.get(token, 0) + 1)
    return (idf * TEMPORAL_FACTOR if is_temporal(token) else idf) ** 2


def reference_match(tokens, counts, size, rarity, min_score=0.0, kicker=(), cluster_kicker=()):
    """`verify.match_profile` as it was, line for line."""
    def figure(t):
        return t[0].isdigit() and not is_temporal(t)

    mine = set(tokens)
    weight = rarity.weight
    own_total = sum(weight(t) for t in mine)
    if own_total <= 0:
        return NO_MATCH
    unmatched_vocab = [t for t in counts if t not in mine]
    prefixes = {t[:2] for t in unmatched_vocab}
    shared_in = shared_cl = 0.0
    shared, core = [], []
    for t in mine:
        if t in counts:
            other, factor = t, 1.0
        elif t[:2] in prefixes:
            other, factor = _soft_lookup(t, unmatched_vocab), SOFT_MATCH_DISCOUNT
        else:
            continue
        if other is None:
            continue
        frac = counts[other] / size
        shared_in += weight(t) * frac * factor
        shared_cl += weight(other) * frac * factor
        shared.append(t)
        if is_core(counts[other], size) and factor == 1.0 and not is_temporal(t):
            core.append(t)
    conflicts, penalty = [], 1.0
    own = [t for t in mine if figure(t)]
    if own and not any(t in counts for t in own) and any(figure(t) and is_core(c, size) for t, c in counts.items()):
        dates = _dates_conflict(tokens, counts, size)  # the rule itself: a day against other days of a month
        conflicts.append("dates" if dates else "numbers")
        penalty *= DATE_CONFLICT if dates else NUMBER_CONFLICT
    mk, tk = set(kicker).difference(cluster_kicker), set(cluster_kicker).difference(kicker)
    if mk and tk and not any(t in counts for t in mk) and not any(t in mine for t in tk):
        conflicts.append("kicker")
        penalty *= KICKER_CONFLICT
    shared_in *= penalty
    shared_cl *= penalty
    containment = shared_in / own_total
    if 2 * containment / (containment + 1) < min_score or not shared or _only_when(shared, tokens):
        return NO_MATCH
    profile_total = sum(weight(t) * c for t, c in counts.items()) / size
    coverage = min(1.0, shared_cl / profile_total) if profile_total > 0 else 0.0
    score = 2 * containment * coverage / (containment + coverage) if containment + coverage else 0.0
    return Match(score, containment, coverage, tuple(sorted(shared)), tuple(sorted(core)),
                 sum(rarity.idf(t) for t in core) / rarity.max_idf, tuple(conflicts))


# Stems that meet softly ("enquet"/"enqueteur"), figures, years, temporal words, kickers' town names.
VOCAB = ["enquet", "enqueteur", "attend", "attendent", "boeing", "boeings", "iran", "crash", "missil", "1.1",
         "0.1", "6", "3", "2020", "janvi", "lund", "quimper", "laval", "avocat", "grev", "greve", "reform", "ab"]
token_lists = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(token_lists, st.lists(token_lists, min_size=1, max_size=5), st.dictionaries(st.sampled_from(VOCAB),
       st.integers(0, 50)), st.integers(0, 400), st.sampled_from([0.0, 0.3, 0.45, 0.6]), st.integers(0, 2),
       st.integers(0, 2))
def test_match_profile_scores_as_before(tokens, members, df, total, min_score, kick, cluster_kick):
    counts = {}
    for m in members:
        for t in set(m):
            counts[t] = counts.get(t, 0) + 1
    rarity, ref_rarity = Rarity(df, total), Rarity(df, total)
    got = match_profile(tokens, counts, len(members), rarity, min_score, tokens[:kick], members[0][:cluster_kick])
    want = reference_match(tokens, counts, len(members), ref_rarity, min_score, tokens[:kick],
                           members[0][:cluster_kick])
    assert got == want
    assert all(rarity.weight(t) == reference_weight(df, total, t) for t in VOCAB)


def reference_fold(text):
    text = text.replace("œ", "oe").replace("æ", "ae")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60)
       | st.text(alphabet="aàâäéèêëiîïôöùûüçœæÀÉÇŒ\u0301\u0327\u0651\u05b8ßﬁ ’'", max_size=40))
def test_accent_folding_as_before(text):
    assert fold_accents(text) == reference_fold(text)
