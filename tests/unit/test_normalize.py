import pytest

from headline_dedup.aliases import AliasTable
from headline_dedup.errors import ConfigurationError, InvalidHeadline
from headline_dedup.normalize import MAX_HEADLINE_CHARS, Normalizer, default_normalizer


def toks(text, lang="fr"):
    return default_normalizer().normalize(text, lang).tokens


@pytest.mark.parametrize("apostrophe", ["'", "\u2019", "\u02bc"])
def test_elisions_with_every_apostrophe(apostrophe):
    text = f"L{apostrophe}OM bat le PSG jusqu{apostrophe}au bout, lorsqu{apostrophe}il pleut d{apostrophe}abord"
    assert toks(text) == ("om", "bat", "psg", "bout", "pleut", "abord")


def test_accents_and_case_fold_before_stemming():
    assert toks("États-Unis: la CROISSANCE a calé") == toks("Etats-Unis : la croissance a cale")


def test_wire_prefixes_and_attributions_are_noise():
    base = toks("Crash en Iran: les experts ont obtenu l'accès aux boîtes noires")
    for variant in ("URGENT - Crash en Iran: les experts ont obtenu l'accès aux boîtes noires",
                    "VIDÉO. Crash en Iran: les experts ont obtenu l'accès aux boîtes noires",
                    "EN DIRECT | Crash en Iran: les experts ont obtenu l'accès aux boîtes noires (Kiev)",
                    "ALERTE - MISE A JOUR: Crash en Iran: les experts ont obtenu l'accès aux boîtes noires"):
        assert toks(variant) == base, variant


def test_numbers_are_kept_and_distinguished():
    a = toks("France: le PIB a reculé de 0,1% au 4e trimestre (Insee)")
    b = toks("France: le PIB a reculé de 1,1% au 4e trimestre (Insee)")
    assert "0.1" in a and "1.1" in b and "4e" in a and a != b
    assert "insee" not in a  # trailing attribution
    assert toks("Bourse: Londres recule (-0,14%)")[-1] == "0.14"  # a number in parentheses is kept


def test_thousands_separators_do_not_split_a_number():
    record = {"16500", "euros", "record"}
    for text in ("16 500 euros, un record", "16.500 euros, un record", "16\u202f500 euros, un record",
                 "16500 euros, un record"):
        assert set(toks(text)) >= record, text
    assert "1000000" in toks("1 000 000 de manifestants")
    assert {"10", "11", "12"} <= set(toks("Sorties des 10, 11 et 12 janvier"))  # a list, not a number
    assert "0.1" in toks("le PIB a reculé de 0,1 %") and "2.5" in toks("2.5 millions")
    assert "16500" in toks("16,500 fans", "en") and "2.5" in toks("2.5 million fans", "en")


def test_number_words_become_digits():
    assert "3" in toks("trois départements en rouge") and "3" in toks("3 départements en rouge")


def test_aliases_and_demonyms():
    assert toks("USA: statu quo sur les taux")[0] == toks("Etats-Unis: statu quo sur les taux")[0] == "usa"
    assert "iran" in toks("Un missile iranien") and "bce" in toks("La Banque centrale européenne")


def test_html_entities_decoded():
    assert toks("Derrière&nbsp;le crash du Boeing") == toks("Derrière le crash du Boeing")


def test_english_is_selectable():
    assert toks("The Fed holds interest rates steady", "en") == ("fed", "hold", "interest", "rate", "steadi")


def test_guards():
    n = default_normalizer()
    assert n.normalize("   ").tokens == ()
    assert n.normalize("Le la les").tokens == ()
    with pytest.raises(InvalidHeadline) as e:
        n.normalize("x" * (MAX_HEADLINE_CHARS + 1))
    assert e.value.code == "too_long"
    with pytest.raises(InvalidHeadline) as e:
        n.normalize(b"\xff\xfe headline")
    assert e.value.code == "invalid_utf8"
    with pytest.raises(InvalidHeadline) as e:
        n.normalize("Titre", lang="xx")
    assert e.value.code == "unsupported_language"


def test_alias_file_extends_and_rejects_bad_lines(tmp_path):
    f = tmp_path / "aliases.tsv"
    f.write_text("# mine\nOlympique de Marseille\tom\nLa Canebière\tmarseille\n", encoding="utf-8")
    n = Normalizer(AliasTable.from_files(f))
    assert n.normalize("La Canebière fête l'Olympique de Marseille").tokens[0] == "marseil"
    f.write_text("no tab here\n", encoding="utf-8")
    with pytest.raises(ConfigurationError):
        AliasTable.from_files(f)


@pytest.mark.parametrize("text, kicker", [
    ("Laval. Les avocats reconduisent leur grève", ("laval",)),
    ("Besançon : une nouvelle fusillade fait un blessé", ("besancon",)),
    ("CARTE. Touraine : vos sorties du week-end", ("tourain",)),  # CARTE. is a format label, like VIDEO.
    ("Zone euro: la croissance cale en fin d'année", ("zon", "euro")),
    ("M. Dupont reste maire de Laval", ()),  # an abbreviation, not a kicker
    ("Crise: la croissance", ("cris",)),
    ("Une très longue introduction qui dépasse la limite: la suite", ()),  # longer than 40 characters
    ("Pas de kicker dans ce titre", ()),
])
def test_kicker_is_the_short_lead_segment(text, kicker):
    n = default_normalizer().normalize(text)
    assert n.kicker_tokens == kicker
    assert n.tokens[:n.kicker] == kicker


def test_kicker_is_tokenised_on_its_own():
    n = default_normalizer().normalize("Etats-Unis : les créations d'emplois ralentissent")
    assert n.kicker_tokens == ("usa",) and n.tokens[1:] == toks("les créations d'emplois ralentissent")
