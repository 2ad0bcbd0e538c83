"""Pooled evaluation against editor-judged pairs."""
import io

import pytest

from headline_dedup.judged import Judgements, pooled

FILE = "row_a\trow_b\tlabel\ttitle_a\ttitle_b\tnote\n" + "".join(
    f"{a}\t{b}\t{label}\t\t\t\n" for a, b, label in [
        ("1", "2", "SAME"), ("1", "3", "SAME"), ("4", "5", "DIFF"), ("6", "7", "UNSURE"), ("8", "9", "SAME")])


def test_precision_counts_judged_pairs_recall_counts_the_files_same_pairs():
    judged = Judgements.read(io.StringIO(FILE))
    ids = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
    labels = ["a", "a", "b", "c", "c", "d", "d", "e", "f", "c"]  # 1-2 SAME, 4-5 DIFF, 6-7 UNSURE, 4-10/5-10 unjudged
    s = pooled(ids, labels, judged, keys={})
    assert (s.same_found, s.diff_made, s.unsure_made, s.unjudged, s.same_total) == (1, 1, 1, 2, 3)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(1 / 3)


def test_pairs_with_identical_normalised_texts_are_left_out_on_both_sides():
    judged = Judgements.read(io.StringIO(FILE))
    s = pooled(["1", "2", "3"], ["a", "a", "a"], judged, keys={"1": "x", "2": "x", "3": "y"})
    assert s.trivial == 1 and s.same_total == 2 and (s.same_found, s.unjudged) == (1, 1)


def test_an_unknown_label_is_refused():
    with pytest.raises(ValueError, match="MAYBE"):
        Judgements.read(io.StringIO("row_a\trow_b\tlabel\n1\t2\tMAYBE\n"))
