"""The one orchestration: a batch of headlines in, one decision per headline out.

Written against the ports, so the offline commands (in-memory adapters) and the service worker (Redis
adapters) run the same code. A batch is decided headline by headline in input order, each seeing the ones
before it (document frequencies, new clusters, exact keys), so processing a feed in batches or one by one gives
the same clusters.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

from headline_dedup.candidates import CandidateFinder
from headline_dedup.clustering import ClusterProfile, Decision, Policy, PolicyParams
from headline_dedup.errors import InvalidHeadline
from headline_dedup.normalize import NormalizedHeadline, Normalizer, default_normalizer
from headline_dedup.ports import BatchOutcome, CandidateIndex, Headline, IndexEntry, StateStore
from headline_dedup.semantic import SemanticJudge
from headline_dedup.signatures import SignatureParams, Signer
from headline_dedup.vectors import DenseSearch
from headline_dedup.weights import Rarity


@dataclass(frozen=True)
class EngineConfig:
    signature: SignatureParams = SignatureParams()
    policy: PolicyParams = PolicyParams()


LEAD_MIN_TOKENS = 5


@dataclass
class Found:
    """What `Engine.find` prepared for deciding a batch, by position in the batch (picklable: see `lookahead`)."""

    normalized: list[NormalizedHeadline | None]  # None: rejected
    rejected: dict[int, Decision]  # the rejected headlines' decisions
    leads: dict[int, str | None]  # the exact-duplicate keys of the leads given
    candidates: dict[int, list[str]]  # by words (none for a headline an exact twin decides)
    by_meaning: dict[int, list[str]]  # by meaning (empty without a dense search)
    words: dict[str, Sequence[int]] | None  # the word rows the agreement test reads (`CandidateFinder.agrees`)
    vectors: dict[str, object]  # the batch's candidate vectors, by headline id (kept for a judge only)

    @property
    def exact_keys(self) -> list[str]:
        """The exact-duplicate keys of the batch's texts and leads (deciding records every one)."""
        return [n.key for n in self.normalized if n is not None] + [k for k in self.leads.values() if k]


class _Overlay(dict):
    """Document frequencies: the loaded snapshot plus this batch's own counts."""


class Engine:
    """Decides batches of headlines against a candidate index and a state store."""

    def __init__(self, index: CandidateIndex, store: StateStore, config: EngineConfig | None = None,
                 normalizer: Normalizer | None = None,
                 cluster_id_for: Callable[[str], str] = lambda headline_id: headline_id,
                 dense: DenseSearch | None = None, judge: SemanticJudge | None = None):
        """`index`: the MinHash band index; `dense`: sentence-vector candidates beside it; `judge`: the semantic
        verifier tier (see `semantic`). What only `dense` found is judged by the lexical rules when its words
        agree with the headline's (`DenseSearch.min_alignment`), and by the judge when there is one."""
        self.config = config or EngineConfig()
        self.index = index
        self.store = store
        self.normalizer = normalizer or default_normalizer()
        self.signer = Signer(self.config.signature)
        self.policy = Policy(self.config.policy)
        self.cluster_id_for = cluster_id_for
        self.dense = dense
        self.judge = judge
        self.candidates = CandidateFinder(index, self.signer, dense, judged=judge is not None)
        self._batch_vectors: dict = {}  # the current batch's candidate vectors, by headline id

    def set_policy(self, params: PolicyParams) -> None:
        """Decide later batches with `params` (thresholds an admin changed at run time)."""
        if params != self.config.policy:
            self.config = replace(self.config, policy=params)
            self.policy = Policy(params)

    def prepare(self, headline: Headline) -> NormalizedHeadline:
        """Normalise one headline (raises `InvalidHeadline`)."""
        return self.normalizer.normalize(headline.text, headline.lang)

    def foresee(self, headlines: Sequence[Headline], only: set[str] | None = None) -> None:
        """Embed, in one call, what the semantic judge will need to decide `headlines` (a dry run that notes it);
        `only`: what it needs for these headlines' decisions (the others are context: they come before them)."""
        if self.judge is not None and headlines:
            with self.judge.foreseeing(only):
                self.process(headlines, dry_run=True)

    def process(self, headlines: Sequence[Headline], dry_run: bool = False, foreseen: bool = False
                ) -> list[Decision]:
        """Cluster a batch; returns one `Decision` per headline, in order. Commits before returning, unless
        `dry_run`: then the index and the store are only read (what the batch *would* do). `foreseen`: what the
        judge needs was embedded beforehand (`foresee`), so the batch is not dry-run again first; a need that
        was not foreseen is embedded when met."""
        if self.judge is not None and not dry_run and not foreseen:
            self.foresee(headlines)
        return self.decide(headlines, self.find(headlines, dry_run), dry_run)

    def find(self, headlines: Sequence[Headline], dry_run: bool = False) -> Found:
        """The first half of `process`: normalise, sign and search (inserting into the indexes unless `dry_run`).
        No decision changes what it returns, so a feed's next batch can be found while this one is decided."""
        normalized: list[NormalizedHeadline | None] = []
        rejected: dict[int, Decision] = {}
        for i, h in enumerate(headlines):
            try:
                n = self.prepare(h)
            except InvalidHeadline as exc:
                n, rejected[i] = None, Decision(h.id, None, exc.code)
            if n is not None and not n.tokens:
                n, rejected[i] = None, Decision(h.id, None, "empty")
            normalized.append(n)

        min_tokens = self.config.policy.min_tokens
        indexable = [i for i, n in enumerate(normalized) if n is not None and len(set(n.tokens)) >= min_tokens]
        signatures = self.signer.sign(normalized[i].tokens for i in indexable)
        entries = self._entries([headlines[i] for i in indexable], signatures)
        leads = {i: self._lead_key(h) for i, h in enumerate(headlines) if h.lead and normalized[i] is not None}
        twinned, copies = self._twinned(normalized, leads)
        found, near = self.candidates.find(entries, frozenset(headlines[i].id for i in copies),
                                           frozenset(headlines[i].id for i in twinned), dry_run)
        candidates = dict(zip(indexable, found))
        for i in twinned:
            if i in candidates:
                candidates[i] = []
        vectors = {e.headline_id: e.vector for e in entries if e.vector is not None} if self.judge else {}
        by_meaning, words = {}, None
        if near is not None:
            by_meaning = dict(zip(indexable, near))
            words = self.candidates.words_for_agreement(entries, near)
        return Found(normalized, rejected, leads, candidates, by_meaning, words, vectors)

    def decide(self, headlines: Sequence[Headline], found: Found, dry_run: bool = False) -> list[Decision]:
        """The second half of `process`: decide each headline of a batch `find` prepared, in order, and commit
        unless `dry_run`."""
        normalized, leads = found.normalized, found.leads
        self._batch_vectors = found.vectors
        if self.judge is not None:
            self.judge.source.remember({h.id: h.text for h in headlines})
        keys = found.exact_keys
        tokens = sorted({t for n in normalized if n is not None for t in n.tokens})
        all_candidates = sorted({c for cs in (*found.candidates.values(), *found.by_meaning.values()) for c in cs})
        snap = self.store.load(keys, tokens, all_candidates)

        outcome = BatchOutcome()
        df = _Overlay(snap.df)
        total = snap.total
        profiles = snap.profiles
        for i, h in enumerate(headlines):
            n = normalized[i]
            if n is None:
                outcome.decisions.append(found.rejected[i])
                continue
            for t in set(n.tokens):
                df[t] = df.get(t, 0) + 1
            total += 1
            outcome.tokens[h.id] = n.tokens
            rarity = Rarity(df, total)
            lead = leads.get(i)
            decision = self._decide(h, n, lead, found.candidates.get(i), found.by_meaning.get(i, ()), found.words,
                                    snap, profiles, rarity)
            outcome.decisions.append(decision)
            snap.assignment[h.id] = decision.cluster_id
            for key in (n.key, lead):
                if key and snap.exact.get(key) not in profiles:  # new, or its twin's cluster has expired
                    snap.exact[key] = outcome.exact_keys[key] = decision.cluster_id
            outcome.profiles[decision.cluster_id] = profiles[decision.cluster_id]
        if not dry_run:
            self.store.commit(outcome)
        return outcome.decisions

    def _entries(self, headlines: Sequence[Headline], signatures) -> list[IndexEntry]:
        """The index entries of `headlines`; their vectors go to the judge too when it reads the same encoder."""
        entries = self.candidates.entries(headlines, signatures)
        if self.judge is not None and self.dense is not None and self.judge.source.encoder is self.dense.encoder:
            self.judge.source.add({e.headline_id: e.vector for e in entries})
        return entries

    def _twinned(self, normalized: list[NormalizedHeadline | None], leads: dict[int, str | None]
                 ) -> tuple[list[int], list[int]]:
        """The headlines an exact twin decides: their text's or lead's key was recorded before, or comes earlier
        in the batch. Their candidates are neither loaded nor weighed (half a scraped feed is re-scrapes). And
        the copies among them: those whose very text was seen (the index need not search for them)."""
        keys = {i: [k for k in (n.key, leads.get(i)) if k] for i, n in enumerate(normalized) if n is not None}
        seen = self.store.seen_keys(sorted({k for ks in keys.values() for k in ks}))
        twinned, copies = [], []
        for i, ks in keys.items():
            if any(k in seen for k in ks):
                twinned.append(i)
                if normalized[i].key in seen:
                    copies.append(i)
            seen.update(ks)
        return twinned, copies

    def _lead_key(self, h: Headline) -> str | None:
        """The exact-duplicate key of a headline's lead sentence: two items whose articles open with the same
        sentence (normalised) are one dispatch, whatever their titles. A lead of fewer than LEAD_MIN_TOKENS
        distinct content words is too weak a sign."""
        try:
            n = self.normalizer.normalize(h.lead, h.lang)
        except InvalidHeadline:
            return None
        return f"lead:{n.key}" if len(set(n.tokens)) >= LEAD_MIN_TOKENS else None

    def _decide(self, h: Headline, n: NormalizedHeadline, lead: str | None, cands: list[str] | None,
                by_meaning: Sequence[str], words, snap, profiles, rarity: Rarity) -> Decision:
        for key, reason in ((n.key, "exact"), (lead, "lead")):  # its text, else its article's lead, seen before
            twin = snap.exact.get(key) if key else None
            if twin is not None and twin in profiles:
                return self._join(h, n, profiles[twin], reason, 1.0, None, None, rarity)
        if cands is None:  # too short to be compared by similarity
            return self._open(h, n, "too_short", profiles, rarity)

        def clusters(ids):
            return {snap.assignment[c] for c in ids if snap.assignment.get(c) in profiles}

        by_words = clusters(cands)
        prof, match, reason, runner_up = self.policy.best(n.tokens, [profiles[c] for c in sorted(by_words)],
                                                          rarity, n.kicker_tokens, h.timestamp)
        if prof is None and by_meaning:
            # Found by meaning only: the lexical rules judge those whose words agree with the headline's (asked
            # of the clusters the rules would join, best first: the costlier test last).
            others = [profiles[c] for c in sorted(clusters(by_meaning) - by_words)]
            for found, found_prof, found_reason in self.policy.ranked(n.tokens, others, rarity, n.kicker_tokens,
                                                                      h.timestamp):
                cid = found_prof.cluster_id
                if found_reason and any(self.candidates.agrees(words, h.id, c) for c in by_meaning
                                        if snap.assignment.get(c) == cid):
                    prof, match, reason = found_prof, found, found_reason
                    break
        if prof is not None:
            prof, match, reason = self._editors_choice(h, n, prof, match, reason, [*cands, *by_meaning], snap,
                                                       profiles, rarity)
            return self._join(h, n, prof, reason, match.score, match, runner_up, rarity)
        if self.judge is not None:
            judged = self._judge(h, n, [*cands, *by_meaning], by_words | clusters(by_meaning), snap, profiles, rarity)
            if judged is not None:
                return judged
        return self._open(h, n, "new", profiles, rarity, match, runner_up)

    def _anchors(self, cands, snap, profiles) -> set[str]:
        """The clusters of the candidates an editor placed."""
        return {snap.assignment.get(c) for c in cands if c in snap.placed} & profiles.keys()

    def _editors_choice(self, h, n, prof, match, reason, cands, snap, profiles, rarity):
        """An editor's split or move stands (see `corrections`): a cluster set apart from the cluster of a placed
        candidate that the headline could join as well yields to that cluster."""
        anchors = sorted(self._anchors(cands, snap, profiles) & prof.apart) if prof.apart and snap.placed else []
        if anchors:
            found, found_match, found_reason, _ = self.policy.best(n.tokens, [profiles[a] for a in anchors], rarity,
                                                                   n.kicker_tokens, h.timestamp)
            if found is not None:
                return found, found_match, found_reason
        return prof, match, reason

    def _judge(self, h, n, cands, cluster_ids, snap, profiles, rarity) -> Decision | None:
        """The semantic tier: the open clusters (word overlap at least `grey_min`, no conflict), judged by meaning;
        not those an editor set apart from the cluster of a placed candidate."""
        anchors = self._anchors(cands, snap, profiles) if snap.placed else set()
        members_of: dict[str, list[str]] = {}
        for c in dict.fromkeys(cands):
            cid = snap.assignment.get(c)
            if cid in cluster_ids and not profiles[cid].apart & anchors:
                members_of.setdefault(cid, []).append(c)
        open_clusters, matches = {}, {}
        grey_min = self.judge.params.grey_min
        for cid in sorted(members_of):
            # The cheap test first: a story lives long in a backfill, and weighing its whole profile is not cheap.
            members = self._worth_judging(h, members_of[cid], profiles[cid])
            if not members:
                continue
            m = self.policy.match(n.tokens, profiles[cid], rarity, n.kicker_tokens, grey_min)
            if self.judge.params.is_open(m):
                open_clusters[cid] = members
                matches[cid] = m
        choice = self.judge.choose(h.id, open_clusters)
        if choice is None:
            return None
        cid, cosine = choice
        return self._join(h, n, profiles[cid], "semantic", matches[cid].score, matches[cid], None, rarity, cosine)

    def _worth_judging(self, h: Headline, members: list[str], prof: ClusterProfile) -> list[str]:
        """The members worth the judge's (costly) vectors: those within its horizon (`JudgeParams.horizon_hours`;
        a member's own time when the dense index still has it, else its cluster's latest), and, with cheap
        candidate vectors (not the judge's own), those whose vector is close enough to the headline's
        (`JudgeParams.min_cheap_cosine`)."""
        since = h.timestamp - self.judge.params.horizon_hours * 3600
        mine = self._batch_vectors.get(h.id)
        cheap = mine is not None and self.dense is not None and self.dense.encoder is not self.judge.source.encoder
        kept = []
        for m in members:
            when = self.candidates.time_of(m)
            if (prof.latest if when is None else when) < since:
                continue
            if cheap:
                theirs = self._batch_vectors.get(m)
                if theirs is None:
                    theirs = self.candidates.vector_of(m)
                if theirs is None or float(mine @ theirs) < self.judge.params.min_cheap_cosine:
                    continue
            kept.append(m)
        return kept

    def _open(self, h, n, reason, profiles, rarity, match=None, runner_up=None) -> Decision:
        cid = self.cluster_id_for(h.id)
        prof = profiles.get(cid)
        if prof is None:
            prof = profiles[cid] = ClusterProfile(cid)
        prof.add(n.tokens, h.timestamp)
        self.policy.update_representative(prof, h.id, n.tokens, rarity, n.kicker)
        best_other = runner_up if match is None else (None, match.score)
        return Decision(h.id, cid, reason, 1.0, created=True, representative_changed=True, match=match,
                        runner_up=best_other if best_other and best_other[0] else runner_up,
                        cluster_size=prof.size)

    def _join(self, h, n, prof: ClusterProfile, reason, score, match, runner_up, rarity,
              semantic: float | None = None) -> Decision:
        # A headline the semantic judge joined does not lend its words to the cluster's profile: its siblings would
        # join on them. On dev, with its words lent, one big story absorbed its other developments (precision
        # 0.878 at the e5 bar 0.93); without, 0.919 at recall 0.516. (They still count in document frequencies.)
        prof.add(() if reason == "semantic" else n.tokens, h.timestamp)
        changed = self.policy.update_representative(prof, h.id, n.tokens, rarity, n.kicker)
        return Decision(h.id, prof.cluster_id, reason, score, representative_changed=changed, match=match,
                        runner_up=runner_up, cluster_size=prof.size, semantic=semantic)
