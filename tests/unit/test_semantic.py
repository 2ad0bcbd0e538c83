"""The semantic verifier tier's rules, with real word vectors as the judge's encoder (fast; e5 runs in
tests/integration/test_encoders.py)."""
import pytest

from headline_dedup.offline import memory_engine
from headline_dedup.ports import Headline
from headline_dedup.semantic import JudgeParams, MemoryVectors, SemanticJudge
from headline_dedup.vectors import DenseParams
from headline_dedup.wordvectors import WordVectorEncoder

BOURSE = ["La Bourse de Paris salue la baisse des taux de la BCE",
          "Les Bourses européennes terminent dans le vert après la BCE"]  # word overlap 0.33, below the live bar


@pytest.fixture(scope="module")
def words():
    return WordVectorEncoder()


def _decide(words, texts, bar):
    engine = memory_engine(candidates=words, judge=words, dense=DenseParams(10, 0.0),
                           judge_params=JudgeParams(bar=bar))
    return engine, engine.process([Headline(str(i), t) for i, t in enumerate(texts)])


def test_the_judge_joins_an_open_decision_at_its_bar_and_says_so(words):
    cosine = float(words.encode(BOURSE[:1])[0] @ words.encode(BOURSE[1:])[0])
    _, (first, second) = _decide(words, BOURSE, bar=cosine - 0.01)
    assert second.cluster_id == first.cluster_id and second.reason == "semantic"
    assert second.semantic == pytest.approx(cosine, abs=1e-5) and 0.2 <= second.score < 0.45
    _, (first, second) = _decide(words, BOURSE, bar=cosine + 0.01)
    assert second.cluster_id != first.cluster_id and second.reason == "new" and second.semantic is None


def test_a_headline_the_judge_joined_lends_its_words_to_no_profile(words):
    cosine = float(words.encode(BOURSE[:1])[0] @ words.encode(BOURSE[1:])[0])
    engine, (first, second) = _decide(words, BOURSE, bar=cosine - 0.01)
    assert second.reason == "semantic"
    profile = engine.store.profiles[first.cluster_id]
    assert profile.size == 2 and set(profile.counts) == set(engine.prepare(Headline("0", BOURSE[0])).tokens)
    assert all(n == 1 for n in profile.counts.values())  # its siblings join on the story's words, not on its own
    assert engine.store.df["vert"] == 1  # they still count as words seen


def test_the_judge_compares_with_members_of_the_last_day_only(words):
    cosine = float(words.encode(BOURSE[:1])[0] @ words.encode(BOURSE[1:])[0])
    for hours, joined in ((23, True), (25, False)):
        engine = memory_engine(candidates=words, judge=words, dense=DenseParams(10, 0.0),
                               judge_params=JudgeParams(bar=cosine - 0.01))
        first, second = engine.process([Headline("0", BOURSE[0], timestamp=0.0),
                                        Headline("1", BOURSE[1], timestamp=hours * 3600.0)])
        assert (second.cluster_id == first.cluster_id) is joined, hours
        assert second.reason == ("semantic" if joined else "new")


def test_without_enough_word_overlap_meaning_alone_never_joins(words):
    texts = ["La Bourse de Paris salue la baisse des taux de la BCE",
             "Le CAC 40 gagne du terrain, porté par Francfort"]
    _, (first, second) = _decide(words, texts, bar=0.0)  # any cosine would do, but word overlap is under 0.2
    assert second.cluster_id != first.cluster_id


def test_conflicting_figures_are_not_judged(words):
    texts = ["Séisme en Turquie: au moins 12 morts", "Séisme en Turquie: au moins 40 morts selon un nouveau bilan"]
    _, (first, second) = _decide(words, texts, bar=0.0)
    assert second.cluster_id != first.cluster_id


def test_a_batch_is_foreseen_and_embedded_in_one_call(words):
    calls = []

    class Counting:  # the real word vectors, counting the calls made to them
        name, dim = words.name, words.dim

        def encode(self, texts):
            calls.append(len(texts))
            return words.encode(texts)

    engine = memory_engine(candidates=words, judge=Counting(), dense=DenseParams(10, 0.0),
                           judge_params=JudgeParams(bar=0.99, min_cheap_cosine=0.0))
    engine.process([Headline(str(i), t) for i, t in enumerate(BOURSE * 2 + ["La Bourse de Paris recule"])])
    assert calls and calls[0] >= 2 and len(calls) == 1  # the open decisions' vectors, embedded together


def test_each_headline_is_embedded_once_and_only_when_a_decision_is_open(words):
    engine, _ = _decide(words, BOURSE, bar=0.99)
    assert engine.judge.source.embedded == 0  # the candidate vectors were the judge's own: reused
    source = MemoryVectors(words)
    source.remember({"a": BOURSE[0], "b": BOURSE[1]})
    judge = SemanticJudge(source, JudgeParams(bar=0.0))
    assert judge.choose("b", {"c1": ["a"]})[0] == "c1" and source.embedded == 2
    assert judge.choose("b", {"c1": ["a"], "c2": ["zzz"]})[0] == "c1" and source.embedded == 2  # unknown: left out
    assert judge.choose("b", {}) is None
