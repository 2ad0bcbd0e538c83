"""The lead sentence of an article body: real articles of the seed feed, and the French typography around it."""
import pytest

from headline_dedup.leads import MAX_LEAD_CHARS, is_byline, is_date_line, is_subhead, lead_sentence, \
    strip_date_prefix
from tests.conftest import shared


def _body(name: str, skip: int) -> str:
    return "\n".join(shared(f"seed-feed/{name}").read_text(encoding="utf-8").splitlines()[skip:])


@pytest.mark.parametrize("name, skip, lead", [
    ("article-001.txt", 1, "Un modèle avancé d’intelligence artificielle (IA) chinois appelé DeepSeek R1 bouleverse "
                           "le monde de la technologie avec sa puissance supérieure."),
    ("article-002.txt", 1, "Le gouvernement chinois a décidé d’interdire les déplacements à l’étranger pour les "
                           "développeurs de son modèle d’intelligence artificielle le plus avancé, DeepSeek, afin de "
                           "protéger sa souveraineté technologique face à l’Occident."),
    # a short title, a blank line, then the body: the lead is the body's first sentence, not the title's line
    ("article-003.txt", 1, "L’année 2025 marque un tournant significatif dans le domaine de l’intelligence "
                           "artificielle (IA), notamment avec l’ascension rapide de DeepSeek, une entreprise chinoise "
                           "qui ne cesse de faire parler d’elle."),
    # no title: the first line is " date 2025-01 " then the lead
    ("article-004.txt", 0, "Si ce tout début de l’année 2025 nous a appris quelque chose, c’est que le jeu de l’IA "
                           "n’est pas encore terminé."),
    # the seed feed's article, after its 50 headlines and its title
    ("feed.txt", 51, "Les restrictions américaines sur les puces high-tech ont pu, sans le vouloir, propulser le "
                     "succès du chatbot DeepSeek, ce qui inquiète les Etats-Unis sur leur capacité à contrer la "
                     "Chine dans la course à l'intelligence artificielle (IA)."),
])
def test_the_lead_of_the_seed_articles(name, skip, lead):
    assert lead_sentence(_body(name, skip)) == lead


@pytest.mark.parametrize("body, lead", [
    # the sentence ends at . ! ? … followed by another sentence, or at the end of the paragraph
    ("La Bourse de Paris a fini en hausse. Le CAC 40 a gagné 1%.", "La Bourse de Paris a fini en hausse."),
    ("Est-ce la fin ? Les marchés en doutent.", "Est-ce la fin ?"),
    ("Puis DeepSeek est arrivé.\nLa suite.", "Puis DeepSeek est arrivé."),
    ("Le gouvernement annonce un plan sans précédent\nLa suite.", "Le gouvernement annonce un plan sans précédent"),
    # guillemets: the closing one belongs to the sentence; a question inside a quotation does not end it
    ("Il a déclaré : « Les Etats-Unis restent en tête. » Puis il est parti.",
     "Il a déclaré : « Les Etats-Unis restent en tête. »"),
    ("« Pourquoi ? », a demandé le ministre. Personne n'a répondu.", "« Pourquoi ? », a demandé le ministre."),
    ('"La question, c\'est peut-on avoir accès à l\'IA?" Tout est là.', '"La question, c\'est peut-on avoir accès à '
                                                                       'l\'IA?"'),
    ('Le vote est acquis. "Nous avons gagné", dit-il.', "Le vote est acquis."),
    # non-breaking spaces of French typography are plain spaces in the lead
    ("La croissance est-elle finie\u202f? Les économistes en doutent.", "La croissance est-elle finie ?"),
    # abbreviations, initials and figures do not end a sentence
    ("M. Ding, de l'université George Washington, l'a dit. La suite.", "M. Ding, de l'université George Washington, "
                                                                      "l'a dit."),
    ("Selon J. Dupont et Mme. Durand, le taux passe à 3.5 points. Fin.", "Selon J. Dupont et Mme. Durand, le taux "
                                                                        "passe à 3.5 points."),
    ("Le PIB a reculé de 0,1 %. La France est en récession.", "Le PIB a reculé de 0,1 %."),
    ("Les prix... Ils flambent.", "Les prix..."),
    # what comes before the first real sentence is skipped
    ("\n\nJeudi 30 janvier 2025\nPar Jean Dupont\nPARIS (AFP) - La Bourse a fini en hausse. Le CAC", "La Bourse a fini "
                                                                                                   "en hausse."),
    ("Publié le 30/01/2025 à 10h00\n- Effet de surprise -\nÉCONOMIE\nLe gouvernement cède. Enfin.",
     "Le gouvernement cède."),
    ("2025-01-30 - Le texte commence ici. Deux.", "Le texte commence ici."),
    ("T.Morelli--CPN\nLe texte commence ici.", "Le texte commence ici."),
    # a paragraph hard-wrapped over lines: its sentence runs on while the next line starts lower case
    ("Le gouvernement a\nannoncé un plan. Le reste.\nSuite.", "Le gouvernement a annoncé un plan."),
])
def test_lead_sentence(body, lead):
    assert lead_sentence(body) == lead


@pytest.mark.parametrize("body", [None, "", "\n \n", "12 janvier 2025\nPar Jean Dupont\n(AFP)\n- Sous-titre -"])
def test_no_lead_without_a_sentence(body):
    assert lead_sentence(body) is None


def test_an_overlong_sentence_is_cut_at_a_word():
    words = " ".join(["croissance"] * 100)
    lead = lead_sentence(f"La {words} continue. Fin.")
    assert lead.endswith("croissance…") and len(lead) <= MAX_LEAD_CHARS
    assert lead.startswith("La croissance croissance")


def test_the_line_kinds():
    assert is_date_line("date 2025-01") and is_date_line("Jeudi 30 janvier 2025 à 10h00")
    assert is_date_line("Mis à jour le 30/01/2025 à 11:45")
    assert not is_date_line("Le 30 novembre 2022 fut le jour où tout changea")
    assert not is_date_line("janvier")  # no figure: a word, not a date
    assert is_byline("T.Morelli--CPN") and is_byline("mpf/ila/ob") and is_byline("(AFP)")
    assert is_byline("Par Jean Dupont") and not is_byline("Par ailleurs, le gouvernement a cédé.")
    assert is_subhead("- Effet de surprise -") and is_subhead('- "Peur" -')
    assert not is_subhead("- Zone euro: la croissance cale") and not is_subhead("-19,4°C en Moselle, -13°C -")
    assert strip_date_prefix(" date 2025-01 Si ce tout début") == "Si ce tout début"
    assert strip_date_prefix("WASHINGTON, 30 jan 2025 (AFP) - Le président") == "Le président"
    assert strip_date_prefix("2025-2030: le plan") == "2025-2030: le plan"  # a span of years, not a date
