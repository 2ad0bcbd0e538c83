"""Properties of the engine over generated input (hypothesis)."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headline_dedup.errors import InvalidHeadline
from headline_dedup.normalize import Normalizer, clean_text, default_normalizer
from headline_dedup.offline import memory_engine
from headline_dedup.ports import Headline

WORDS = ["Zone", "euro", "croissance", "cale", "Fed", "taux", "statu", "quo", "Redon", "crue", "BCE", "Bourse",
         "Paris", "l'Allemagne", "d’année", "0,1%", "1,1%", "URGENT", "Trump", "Lula", "grève", "Lyon", "bus"]
headline_text = st.lists(st.sampled_from(WORDS), min_size=0, max_size=9).map(" ".join)
anything = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400) | st.sampled_from([
    "مرحبا بالعالم: الاقتصاد", "🔥🔥 URGENT 🔥 Zone euro 📉", "a\u200bb\u200fc\u202ed", "\t\r\n  \x0b", "x" * 999,
    "Ｚｏｎｅ ｅｕｒｏ", "l'l'l'l'", "''''''", "ﬁnance ﬂux", "A" + "é" * 500])


@given(anything)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_normalisation_never_crashes_and_its_text_stage_is_idempotent(text):
    n = default_normalizer()
    try:
        out = n.normalize(text)
    except InvalidHeadline:
        return
    # The text stage (NFKC, casefold, accents, apostrophes, wire prefixes) is a projection. The stemmed tokens
    # are not meant to be normalised again: Snowball is not idempotent ("aeee" loses one "e" per pass).
    assert clean_text(out.text) == out.text
    assert Normalizer(n.aliases).normalize(text) == out  # and the whole is deterministic (a fresh cache)


@given(st.lists(headline_text, min_size=1, max_size=25), st.integers(1, 7))
@settings(max_examples=60, deadline=None)
def test_batches_and_one_by_one_give_the_same_clusters(texts, batch):
    hs = [Headline(str(i), t, timestamp=1_700_000_000 + i) for i, t in enumerate(texts)]
    whole = [d.cluster_id for d in memory_engine().process(hs)]
    engine, pieces = memory_engine(), []
    for i in range(0, len(hs), batch):
        pieces += [d.cluster_id for d in engine.process(hs[i:i + batch])]
    assert pieces == whole


@given(st.lists(anything, min_size=1, max_size=10))
@settings(max_examples=100, deadline=None)
def test_the_engine_decides_every_headline_of_arbitrary_unicode(texts):
    decisions = memory_engine().process([Headline(str(i), t) for i, t in enumerate(texts)])
    assert [d.headline_id for d in decisions] == [str(i) for i in range(len(texts))]
    for d in decisions:
        assert (d.cluster_id is None) == (d.reason not in ("new", "exact", "similar", "live", "core", "too_short"))
