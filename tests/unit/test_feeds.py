"""The feed reader: plain lines, the seed feed's list + article, article files; on the real shared files."""
import csv
import gzip
import io
import itertools

import pytest

from headline_dedup.errors import InvalidRequest
from headline_dedup.feeds import MAX_BODY_CHARS, read_article, read_feed
from tests.conftest import shared

SUBHEADS = ["- Effet de surprise -", '- "Peur" -']


def _rows(text: str):
    return list(read_feed(io.StringIO(text)))


def _seed_lines() -> list[str]:
    return shared("seed-feed/feed.txt").read_text(encoding="utf-8").splitlines()


def test_the_seed_feed_is_its_50_headlines_then_one_article():
    with open(shared("seed-feed/feed.txt"), encoding="utf-8", newline="") as f:
        rows = list(read_feed(f))
    headlines, article = rows[:-1], rows[-1]
    assert len(headlines) == 50 and [r.id for r in headlines] == [str(n) for n in range(50)]
    assert headlines[0].text == "Vidéosurveillance: une ville de l'Isère enjointe à renoncer au logiciel Briefcam"
    assert all(r.body is None and not r.text.startswith("-") for r in headlines)
    assert article.id == "50"  # the line number of its title
    assert article.text == "DeepSeek: les restrictions américaines derrière le succès de l'IA chinoise?"
    body = article.body.splitlines()
    assert body[0].startswith("Les restrictions américaines sur les puces high-tech")
    assert all(s in body for s in SUBHEADS)  # the sub-heads are part of the body, not headlines
    assert body[-1] == "T.Morelli--CPN" and len(body) == len(_seed_lines()) - 51
    assert not any(r.text in ("Effet de surprise -", '"Peur" -') for r in rows)


def test_the_list_and_article_format_with_blank_lines_and_crlf():
    lines = _seed_lines()
    text = "\r\n".join(lines[:3] + [""] + lines[3:50] + ["", ""] + lines[50:52] + [""] + lines[52:]) + "\r\n\r\n"
    rows = _rows(text)
    assert len(rows) == 51 and rows[2].id == "2" and rows[3].id == "4"  # ids stay line numbers; blanks skipped
    assert rows[-1].id == "53" and rows[-1].text.startswith("DeepSeek:") and "\r" not in rows[-1].body


def test_plain_lines_are_one_headline_each_blank_lines_kept():
    rows = _rows("Zone euro: la croissance cale\n\n- La Bourse de Paris avance\nFin.\n")
    assert [(r.id, r.text, r.body) for r in rows] == [
        ("0", "Zone euro: la croissance cale", None), ("1", "", None), ("2", "- La Bourse de Paris avance", None),
        ("3", "Fin.", None)]


def test_a_file_of_dashed_headlines_is_plain():
    lines = [line for line in _seed_lines() if line.startswith("- ")]  # sub-heads too
    rows = _rows("\n".join(lines) + "\n")
    assert [r.text for r in rows] == lines and all(r.body is None for r in rows)


def test_a_dashed_list_then_plain_headlines_is_plain():
    """Structurally a list and a block, but the block is headlines, not prose."""
    with open(shared("fr-news-day/dev.tsv"), encoding="utf-8", newline="") as f:
        dev = [r["title"] for r in csv.DictReader(f, delimiter="\t")]
    lines = [line for line in _seed_lines() if line.startswith("- ")][:10] + dev[:40]
    rows = _rows("\n".join(lines))
    assert [r.text for r in rows] == lines and all(r.body is None for r in rows)


def test_no_window_of_scraped_titles_opening_with_a_dashed_one_reads_as_an_article():
    with gzip.open(shared("fr-headlines-scrape/all_headlines.tsv.gz"), "rt", encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        titles = [r["title"] for r in itertools.islice(rows, 200_000)]  # the first 200k of 634k rows: seconds
    # the scrape's only title that starts like a list item (a row past the first 200k)
    dashed = "- 70 °C de température ressentie : « Arctic blast », un froid extrême attendu sur les Etats-Unis"
    size = 25
    for i in range(0, len(titles) - size, size):
        lines = [dashed] + titles[i:i + size]
        rows = _rows("\n".join(lines))
        assert len(rows) == len(lines) and all(r.body is None for r in rows), i
    # and all of them behind it: far past an article's size, read line by line
    rows = _rows("\n".join([dashed] + titles))
    assert len(rows) == len(titles) + 1 and rows[-1].text == titles[-1]


def test_a_list_item_after_the_article_makes_the_file_plain():
    lines = _seed_lines()
    rows = _rows("\n".join(lines + ["- Un titre de plus"]))
    assert len(rows) == len(lines) + 1 and rows[0].text.startswith("- ")


def test_a_block_longer_than_an_article_makes_the_file_plain():
    lines = _seed_lines()
    paragraph = "La croissance de la zone euro a calé en fin d'année, plombée par l'Allemagne et la France. "
    rows = _rows("\n".join(lines[:52] + [paragraph * (MAX_BODY_CHARS // len(paragraph) + 1)]))
    assert len(rows) == 53 and rows[51].body is None


@pytest.mark.parametrize("name, title", [
    ("article-001.txt", "Pourquoi le modèle d’IA chinois DeepSeek R1 bouleverse-t-il le monde de la technologie ?"),
    ("article-002.txt", "La Chine interdit aux développeurs de l’IA DeepSeek de voyager à l’étranger pour protéger sa "
                        "souveraineté technologique"),
    ("article-003.txt", "DeepSeek l’intelligence artificielle"),  # "DeepSeek\xa0 l’intelligence": one space
    ("article-004.txt", "Si ce tout début de l’année 2025 nous a appris quelque chose, c’est que le jeu de l’IA "
                        "n’est pas encore terminé."),  # no title: the lead, its date prefix cut
])
def test_article_files_are_one_item(name, title):
    path = shared(f"seed-feed/{name}")
    lines = path.read_text(encoding="utf-8").splitlines()
    with open(path, encoding="utf-8", newline="") as f:
        row = read_article(f, name)
    assert row.id == name and row.text == title and not row.id_given
    body = row.body.splitlines()
    assert body[-1] == lines[-1].strip() and not body[0].startswith("Titre")
    if name == "article-004.txt":
        assert body[0] == lines[0].strip()  # the first line is the body's
    else:
        assert body[0] == next(x for x in lines[1:] if x.strip())  # the title line is not


def test_an_article_file_with_a_date_line_above_its_title():
    row = read_article(io.StringIO("30/01/2025\n\nBudget: le conclave aboutit\nLes parlementaires ont trouvé un "
                                   "compromis.\n"), "a")
    assert (row.text, row.body) == ("Budget: le conclave aboutit", "Les parlementaires ont trouvé un compromis.")


def test_an_article_file_can_be_a_title_alone():
    assert read_article(io.StringIO("Budget: le conclave aboutit\n\n"), "a").body is None


@pytest.mark.parametrize("text, message", [
    ("", "a.txt: no text"),
    ("\n  \n12 janvier 2025\n", "a.txt: no text"),
    ("Titre :  \nLe corps.", "a.txt: an empty title after 'Titre :'"),
    ("date 2025-01 (AFP) -\n\n- Sous-titre -\n", "a.txt: no title and no sentence in the body"),
    ("Titre\n" + "x" * (MAX_BODY_CHARS + 1), "a.txt: a body of 100,001 characters, more than 100,000"),
    ("Titre\n" + "x" * (MAX_BODY_CHARS * 2), "a.txt: longer than an article can be"),
])
def test_bad_article_files_are_clear_errors(text, message):
    with pytest.raises(InvalidRequest) as exc:
        read_article(io.StringIO(text), "a.txt")
    assert exc.value.code == "invalid_article" and exc.value.message.startswith(message)


def test_a_time_column_asked_of_a_tsv_without_the_text_column_is_an_error_not_plain_text():
    tsv = "row\ttitle\ttime\n0\tZone euro: la croissance cale\t2020-01-10T00:00:00Z\n"
    with pytest.raises(InvalidRequest, match="row, title, time"):
        list(read_feed(io.StringIO(tsv), text_column="text", time_column="time"))
    assert [r.text for r in read_feed(io.StringIO(tsv), time_column="time")] == ["Zone euro: la croissance cale"]


@pytest.mark.parametrize("asked", [{"time_column": "published"}, {"label_column": "story"}])
def test_a_time_or_label_column_the_header_lacks_is_an_error_not_rows_without_them(asked):
    tsv = "row\ttitle\ttime\tcluster_id\n0\tZone euro: la croissance cale\t2020-01-10T00:00:00Z\ta\n"
    with pytest.raises(InvalidRequest, match="no column '(published|story)' .*row, title, time, cluster_id"):
        list(read_feed(io.StringIO(tsv), **asked))
