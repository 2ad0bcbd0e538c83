"""The dense candidate index: nearest earlier headlines by vector, within the window."""
import numpy as np

from headline_dedup.ports import IndexEntry
from headline_dedup.vectors import DenseIndex, _top_columns


def _unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def _entry(hid, vector, t=0.0, words=()):
    return IndexEntry(hid, None, t, vector, words)


def test_the_k_nearest_earlier_entries_above_the_bar_best_first_including_the_same_batch():
    index = DenseIndex(dim=3, k=2, min_cosine=0.5)
    assert index.insert_and_query([_entry("a", _unit(1, 0, 0)), _entry("b", _unit(1, 0.2, 0)),
                                   _entry("c", _unit(0, 1, 0))]) == [[], ["a"], []]
    found = index.insert_and_query([_entry("d", _unit(1, 0.1, 0))])
    assert found == [["b", "a"]]  # c is below the bar; the two nearest, best first
    assert index.query([_entry("e", _unit(1, 0.1, 0))]) == [["d", "b"]] and len(index) == 4  # query adds nothing


def test_entries_leave_the_window_and_the_matrix_grows_and_compacts():
    index = DenseIndex(dim=2, k=1, window_seconds=10)
    for t in range(3000):  # past the initial 1,024 rows, with most rows leaving the window
        angle = (t % 100) * 0.03  # distinct within any window of 11
        index.insert_and_query([_entry(f"h{t}", _unit(np.cos(angle), np.sin(angle)), float(t))])
    assert len(index) == 11
    assert index.query([_entry("q", _unit(np.cos(2.97), np.sin(2.97)), 3000.0)]) == [["h2999"]]
    assert index.query([_entry("q", _unit(1, 0), 5000.0)]) == [[]]  # everything has left


def test_an_entry_in_the_window_keeps_its_word_rows_and_time():
    index = DenseIndex(dim=2, k=3, window_seconds=10)
    index.insert_and_query([_entry("a", _unit(1, 0), 0.0, words=(1, 2)), _entry("b", _unit(1, 0.1), 5.0, words=(3,))])
    assert index.words_of("a") == (1, 2) and "a" in index and index.words_of("zz") == ()
    assert index.time_of("b") == 5.0 and index.time_of("zz") is None
    index.add([_entry("c", _unit(0, 1), 12.0, words=(4,))])  # a's time has left the window
    assert "a" not in index and index.words_of("a") == () and index.words_of("c") == (4,)
    assert index.time_of("a") is None and index.time_of("c") == 12.0


def test_past_max_entries_the_oldest_leave_even_without_times():
    index = DenseIndex(dim=2, k=1, max_entries=5)
    for t in range(8):
        index.insert_and_query([_entry(f"h{t}", _unit(1, t / 10))])
    assert index.query([_entry("q", _unit(1, 0))]) == [["h3"]] and "h2" not in index and len(index) <= 6


def test_the_grouped_selection_finds_what_a_whole_row_selection_finds():
    rng = np.random.default_rng(7)
    for width in (5, 31, 32 * 16 + 3, 2000, 4099):
        scores = rng.standard_normal((40, width)).astype(np.float32)
        scores[:, ::7] = np.round(scores[:, ::7], 1)  # ties
        scores[:3, : width // 2] = -np.inf  # rows whose best are all in one half (masked: the batch's later rows)
        for k in (1, 5, 10):
            if k > width:
                continue
            found = _top_columns(scores, k)
            expected = np.sort(np.partition(scores, -k, axis=1)[:, -k:], axis=1)
            assert np.array_equal(np.sort(np.take_along_axis(scores, found, axis=1), axis=1), expected)
            assert all(len(set(row)) == k for row in found.tolist())


def test_equal_scores_rank_the_earlier_entry_first():
    index = DenseIndex(dim=2, k=3)
    index.insert_and_query([_entry(f"h{n}", _unit(1, 0)) for n in range(3)])
    assert index.query([_entry("q", _unit(1, 0))]) == [["h0", "h1", "h2"]]
