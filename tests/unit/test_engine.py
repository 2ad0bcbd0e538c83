from collections import Counter

from headline_dedup.clustering import PolicyParams
from headline_dedup.engine import EngineConfig
from headline_dedup.normalize import default_normalizer
from headline_dedup.offline import memory_engine
from headline_dedup.ports import Headline
from headline_dedup.verify import pair_score
from headline_dedup.weights import Rarity

A = "Boeing 737 MAX: la FAA interdit de vol l'appareil"
B = "Boeing 737 MAX interdit de vol: grève des pilotes d'Air France"
C = "Grève des pilotes d'Air France: vols annulés"


def run(texts, **policy):
    engine = memory_engine(EngineConfig(policy=PolicyParams(**policy)))
    return engine.process([Headline(str(i), t) for i, t in enumerate(texts)])


def test_no_chaining_through_a_bridging_headline():
    n = default_normalizer()
    ta, tb, tc = (n.normalize(t).tokens for t in (A, B, C))
    df = Counter(t for toks in (ta, tb, tc) for t in set(toks))
    rarity, threshold = Rarity(df, 3), PolicyParams().live_threshold  # they arrive together: a live story
    # Preconditions: A~B and B~C pairwise, A and C unrelated.
    assert pair_score(tb, ta, rarity).score >= threshold
    assert pair_score(tc, tb, rarity).score >= threshold
    assert pair_score(tc, ta, rarity).score < 0.3
    a, b, c = run([A, B, C])
    assert b.cluster_id == a.cluster_id
    assert c.cluster_id != a.cluster_id and c.created


STRIKE = "Grève des pilotes d'Air France: vols annulés"
STRIKE_LATER = "La grève des pilotes d'Air France perturbe le trafic à Roissy et Orly"  # a middling match
HOUR = 3600.0


def test_a_middling_match_joins_a_live_story_only():
    live_hours = PolicyParams().live_hours
    soon, late = (memory_engine().process([Headline("a", STRIKE, timestamp=0.0),
                                          Headline("b", STRIKE_LATER, timestamp=gap * HOUR)])[1]
                  for gap in (live_hours - 1, live_hours + 1))
    params = PolicyParams()
    assert params.live_threshold <= soon.match.score < params.threshold
    assert soon.reason == "live" and soon.cluster_id == "a"
    assert late.reason == "new" and late.cluster_id == "b" and late.match.score == soon.match.score


def test_a_new_member_keeps_a_story_live():
    ds = memory_engine().process([Headline("a", STRIKE, timestamp=0.0),
                                  Headline("a2", STRIKE.upper(), timestamp=5 * HOUR),  # an exact twin, later
                                  Headline("b", STRIKE_LATER, timestamp=10 * HOUR)])
    assert [d.cluster_id for d in ds] == ["a", "a", "a"] and ds[2].reason == "live"


def test_exact_duplicates_join_at_once_and_ids_are_stable():
    ds = run(["Zone euro: la croissance cale en fin d'année", "ZONE EURO - La croissance cale en fin d’année",
              "Le Sénat veut renforcer la protection des haies"])
    assert ds[1].cluster_id == ds[0].cluster_id == "0" and ds[1].reason == "exact"
    assert ds[2].cluster_id == "2" and ds[2].created


def test_guards_empty_short_and_too_long():
    ds = run(["", "   ", "Le la les", "Brexit", "Brexit", "x" * 1001, "Un titre assez long pour compter"])
    assert [d.reason for d in ds[:3]] == ["empty"] * 3 and all(d.cluster_id is None for d in ds[:3])
    assert ds[3].reason == "too_short" and ds[3].created
    assert ds[4].cluster_id == ds[3].cluster_id and ds[4].reason == "exact"  # exact twin of a short one
    assert ds[5].reason == "too_long" and ds[5].cluster_id is None
    assert ds[6].created


def test_short_headlines_never_attract_others():
    ds = run(["Brexit", "Brexit: Boris Johnson obtient un accord"])
    assert ds[1].cluster_id != ds[0].cluster_id


def test_batches_and_one_by_one_give_the_same_clusters(seed_headlines):
    whole = [d.cluster_id for d in memory_engine().process([Headline(str(i), t) for i, t in enumerate(seed_headlines)])]
    engine = memory_engine()
    single = [engine.process([Headline(str(i), t)])[0].cluster_id for i, t in enumerate(seed_headlines)]
    assert whole == single


def test_representative_is_a_member_and_changes_only_for_better_coverage():
    ds = run(["Redon attend une crue record", "Inondations: Redon attend une crue record, trois départements en rouge",
              "Crues: Redon attend une crue record, trois départements toujours en rouge"])
    assert len({d.cluster_id for d in ds}) == 1
    assert ds[0].representative_changed and ds[0].created


def test_disagreeing_numbers_weaken_a_match():
    from headline_dedup.normalize import default_normalizer
    from headline_dedup.pairs import pair_rarity
    from headline_dedup.verify import NUMBER_CONFLICT, pair_score

    n = default_normalizer()
    a = n.normalize("Zone euro: la croissance à 0,1% au quatrième trimestre")
    other = n.normalize("Zone euro: la croissance à 1,1% au quatrième trimestre")
    unnumbered = n.normalize("Zone euro: la croissance au quatrième trimestre")
    assert "0.1" in a.tokens and "1.1" in other.tokens
    conflict = pair_score(other.tokens, a.tokens, pair_rarity(a, other)).score
    plain = pair_score(unnumbered.tokens, other.tokens, pair_rarity(unnumbered, other)).score
    assert conflict < NUMBER_CONFLICT * 0.9 < plain  # 5 of 6 tokens shared, yet below a plain 5-of-6 subset


def test_same_template_for_two_towns_stays_apart():
    """Regional pages run one headline per town: kickers naming different towns are different stories, while
    a kicker the other headline mentions ("Oberhof") is no conflict."""
    from headline_dedup.pairs import pair_rarity

    n = default_normalizer()
    laval = n.normalize("Laval. Les avocats reconduisent leur grève")
    quimper = n.normalize("Quimper. Les avocats reconduisent la grève")
    m = pair_score(quimper.tokens, laval.tokens, pair_rarity(laval, quimper), quimper.kicker_tokens,
                   laval.kicker_tokens)
    assert m.conflicts == ("kicker",)
    assert len({d.cluster_id for d in run([laval.text, quimper.text])}) == 2
    biathlon = n.normalize("Biathlon : Martin Fourcade remporte le sprint d'Oberhof devant Emilien Jacquelin")
    oberhof = n.normalize("Oberhof : Martin Fourcade rafle le sprint")
    m = pair_score(oberhof.tokens, biathlon.tokens, pair_rarity(biathlon, oberhof), oberhof.kicker_tokens,
                   biathlon.kicker_tokens)
    assert m.conflicts == ()


def test_kicker_conflict_is_checked_against_the_representative():
    ds = run(["Météo Tours: prévisions du vendredi 10 janvier, pluie et vent fort",
              "Météo Tours : prévisions du vendredi 10 janvier, pluie et vent",
              "Météo Colmar: prévisions du vendredi 10 janvier, pluie et vent fort"])
    assert ds[1].cluster_id == ds[0].cluster_id
    assert ds[2].cluster_id != ds[0].cluster_id


def test_a_daily_item_of_another_day_is_another_story_even_in_a_plain_list():
    """Without times every story is live; a daily bulletin then joined yesterday's (its figure conflict alone
    left it above the live bar), and the next day's, into one cluster of many days."""
    from headline_dedup.pairs import pair_rarity

    days = ["mardi 11 janvier", "jeudi 13 janvier", "vendredi 14 janvier", "mardi 1er février"]
    ds = run([f"Coronavirus en France : le bilan de ce {d}" for d in days] +
             ["Coronavirus en France : le bilan de ce vendredi 14 janvier, hospitalisations en baisse"])
    assert len({d.cluster_id for d in ds[:4]}) == 4 and ds[4].cluster_id == ds[2].cluster_id
    n = default_normalizer()
    a, b = n.normalize("Grève du 5 décembre : les transports"), n.normalize("Grève du 10 décembre : les transports")
    assert pair_score(b.tokens, a.tokens, pair_rarity(a, b)).conflicts == ("dates",)
    c = n.normalize("Grève : les transports perturbés jusqu'au 10")  # a day without a month: figures only
    assert pair_score(c.tokens, a.tokens, pair_rarity(a, c)).conflicts == ("numbers",)


def test_a_date_alone_in_common_is_no_match():
    """Two items of one day share its date and nothing else: no evidence of one story, however rare "14" is."""
    from headline_dedup.verify import NO_MATCH, match_profile

    n = default_normalizer()
    bulletin = n.normalize("Coronavirus en France : le bilan de ce vendredi 14 janvier")
    show = n.normalize("C'est Votre Argent - Vendredi 14 janvier")
    counts = {t: 1 for t in bulletin.tokens}
    assert match_profile(show.tokens, counts, 1, Rarity({"14": 1}, 1000)) is NO_MATCH
    rewrite = n.normalize("Covid : le bilan en France ce vendredi 14 janvier")
    assert match_profile(rewrite.tokens, counts, 1, Rarity({"14": 1}, 1000)).score > 0.6


def test_years_are_not_conflicting_figures():
    from headline_dedup.pairs import pair_rarity

    n = default_normalizer()
    a = n.normalize("Euro de handball : la France battue d'entrée par le Portugal (28-25)")
    b = n.normalize("Euro de handball 2020 : la France renversée d'entrée par le Portugal")
    assert pair_score(b.tokens, a.tokens, pair_rarity(a, b)).conflicts == ()


def test_unstemmed_verb_endings_match_softly():
    from headline_dedup.pairs import pair_rarity

    n = default_normalizer()
    a, b = n.normalize("Redon attend le pic de la crue"), n.normalize("A Redon, les habitants attendent le pic")
    shared = pair_score(b.tokens, a.tokens, pair_rarity(a, b)).shared
    assert "attend" in shared or "attendent" in shared


def test_core_bar_means_the_same_early_and_late_in_a_stream():
    from headline_dedup.verify import match_profile

    counts, size = {"crash": 2, "iran": 2, "boeing": 2, "missil": 1}, 2
    tokens = ["crash", "iran", "boeing", "canada", "thes"]
    # A story's own words are seen a handful of times whatever the stream's length; IDF grows with the length.
    story = {"crash": 3, "iran": 4, "boeing": 3, "missil": 2}
    early = Rarity({**story, "canada": 2, "thes": 2}, 300)
    late = Rarity({**story, "canada": 2000, "thes": 2000}, 300_000)
    m_early = match_profile(tokens, counts, size, early)
    m_late = match_profile(tokens, counts, size, late)
    assert m_early.core_shared == m_late.core_shared == ("boeing", "crash", "iran")
    assert sum(late.idf(t) for t in story) > 1.5 * sum(early.idf(t) for t in story)
    # In units of the largest IDF, the bar barely moves.
    assert abs(m_late.core_rarity - m_early.core_rarity) < 0.2 * m_early.core_rarity


def test_articles_opening_with_the_same_lead_are_one_dispatch_whatever_their_titles():
    lead = "Le gouvernement chinois a décidé d'interdire les déplacements à l'étranger des développeurs de DeepSeek."
    other = "Un modèle avancé d'intelligence artificielle chinois appelé DeepSeek R1 bouleverse la technologie."
    engine = memory_engine()
    a, b, c, d = engine.process([
        Headline("a", "La Chine interdit aux développeurs de DeepSeek de voyager", lead=lead),
        Headline("b", "Pékin garde ses ingénieurs en IA à la maison", lead=lead.upper()),  # same sentence, new title
        Headline("c", "DeepSeek: l'IA chinoise qui bouscule la Silicon Valley", lead=other),
        Headline("d", "Pékin garde ses ingénieurs à la maison", lead="Pékin. Court."),  # too short to count
    ])
    assert b.cluster_id == a.cluster_id and b.reason == "lead"
    assert c.cluster_id != a.cluster_id and d.reason != "lead"
    again = engine.process([Headline("e", "Voyages interdits pour les ingénieurs de DeepSeek", lead=lead)])[0]
    assert again.cluster_id == a.cluster_id and again.reason == "lead"  # across batches, through the store
