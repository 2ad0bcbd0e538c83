"""The offline commands through the console script's entry point."""
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
