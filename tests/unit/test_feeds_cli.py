"""The offline `cluster` command on the feed formats: the seed feed, article files, and what it refuses."""
import pytest

from headline_dedup.cli.main import main
from headline_dedup.feeds import FeedRow
from headline_dedup.offline import cluster_rows, memory_engine
from tests.conftest import shared

ARTICLES = [f"seed-feed/article-00{n}.txt" for n in range(1, 5)]


def _out(capsys) -> list[list[str]]:
    return [line.split("\t") for line in capsys.readouterr().out.splitlines()]


def test_cluster_reads_the_seed_feed_as_50_headlines_and_one_article(capsys):
    assert main(["cluster", str(shared("seed-feed/feed.txt"))]) == 0
    out = _out(capsys)
    assert out[0] == ["id", "cluster_id"] and [r[0] for r in out[1:]] == [str(n) for n in range(51)]


def test_cluster_reads_each_article_file_as_one_item(capsys):
    paths = [str(shared(a)) for a in ARTICLES]
    assert main(["cluster", "--article", *paths]) == 0
    out = _out(capsys)
    assert [r[0] for r in out[1:]] == paths and all(r[1] for r in out[1:])  # each clustered, id its path


def test_cluster_without_article_takes_one_feed(capsys):
    assert main(["cluster", str(shared(ARTICLES[0])), str(shared(ARTICLES[1]))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before any output
    assert captured.err.strip() == ("headline-dedup: invalid_input: 2 inputs: give one feed, or article files "
                                    "with --article")


def test_cluster_refuses_a_missing_file_or_a_bad_article_before_any_output(tmp_path, capsys):
    assert main(["cluster", "--article", str(shared(ARTICLES[0])), str(tmp_path / "none.txt")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"no such file: {tmp_path / 'none.txt'}")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert main(["cluster", "--article", str(shared(ARTICLES[0])), str(empty)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == f"headline-dedup: invalid_article: {empty}: no text"


def test_the_offline_headlines_carry_the_lead_of_the_body():
    engine = memory_engine()
    seen = []
    process = engine.process
    engine.process = lambda hs, **kw: seen.extend(hs) or process(hs, **kw)
    rows = [FeedRow("a", "Budget: le conclave aboutit", body="Paris, 30 jan 2025 (AFP) - Les parlementaires ont "
                                                              "trouvé un compromis. La suite."),
            FeedRow("b", "Le Sénat veut renforcer la protection des haies")]
    assert len(list(cluster_rows(rows, engine))) == 2
    assert [h.lead for h in seen] == ["Les parlementaires ont trouvé un compromis.", None]


@pytest.mark.parametrize("command", ["cluster", "ingest"])
def test_the_help_documents_the_formats(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--article" in out and "one article" in out and "ONE" in out
