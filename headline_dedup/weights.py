"""Token rarity: inverse document frequency learned from the stream, with temporal words discounted.

Dates say when a story happened, not which story it is: weekdays, months, years and "week-end" would otherwise
glue together templated pages ("vos sorties du week-end des 11 et 12 janvier"), so their weight is scaled down.
"""
from __future__ import annotations

import functools
import math
import re
from typing import Iterable, Mapping, Sequence

# Stems (Snowball French and English, accent-folded) of temporal words.
MONTH_TOKENS = frozenset({  # the months' names, normalised (stemmed)
    "janvi", "fevri", "mar", "avril", "mai", "juin", "juillet", "aout", "septembr", "octobr", "novembr", "decembr",
    "januari", "februari", "march", "april", "may", "june", "juli", "august", "septemb", "octob", "novemb", "decemb",
})
TEMPORAL_TOKENS = MONTH_TOKENS | frozenset({
    "lund", "mard", "mercred", "jeud", "vendred", "samed", "dimanch",
    "week", "end", "weekend", "aujourd", "hui", "demain", "hier", "soir", "matin", "annee", "an", "ans",
    "jour", "journ", "semain", "moi", "heur",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "tomorrow",
    "yesterday", "year", "day", "week",
})
_YEAR = re.compile(r"^(?:19|20)\d\d$")
TEMPORAL_FACTOR = 0.2
IDF_PRIOR_DOCUMENTS = 100



@functools.lru_cache(maxsize=1 << 16)
def is_temporal(token: str) -> bool:
    return token in TEMPORAL_TOKENS or bool(_YEAR.match(token))


class Rarity:
    """IDF weights from document-frequency counts: `idf(t) = ln((N + 1) / (df(t) + 1)) + 1`.

    `df` maps token -> number of headlines containing it, `total` is the number of headlines counted.
    Both include the headline being scored (it has been counted before it is matched).

    `weight(t)` is the weight used in similarity: IDF squared, so that rare words dominate. It is a dictionary's
    own look-up (filled on first use), not a method: the verifier and the policy call it for every token of a
    headline and of each candidate cluster, and a Python call per token cost more than the arithmetic.
    """

    __slots__ = ("df", "total", "_by_count", "_log_n", "weight")

    def __init__(self, df: Mapping[str, int], total: int):
        self.df = df
        self.total = total
        self._log_n = math.log(total + IDF_PRIOR_DOCUMENTS + 1) + 1.0
        self._by_count: dict[int, float] = {}  # idf depends on the token only through its count
        self.weight = _Weights(df, self._log_n, self._by_count).__getitem__

    def idf(self, token: str) -> float:
        return _idf(self.df, self._log_n, self._by_count, token)

    @property
    def max_idf(self) -> float:
        """The IDF of a token never seen before: the most any token can weigh. It grows with the log of the
        stream's length, so a bar on summed IDF is set in these units to mean the same early and late."""
        return self._log_n


def _idf(df: Mapping[str, int], log_n: float, by_count: dict[int, float], token: str) -> float:
    count = df.get(token, 0)
    w = by_count.get(count)
    if w is None:
        w = by_count[count] = log_n - math.log(count + 1)
    return w * TEMPORAL_FACTOR if is_temporal(token) else w


class _Weights(dict):
    """token -> IDF squared, computed on first look-up. Holds the counts, not the `Rarity` (no reference cycle:
    one `Rarity` a headline is freed at once, not by the garbage collector)."""

    __slots__ = ("_df", "_log_n", "_by_count")

    def __init__(self, df: Mapping[str, int], log_n: float, by_count: dict[int, float]):
        super().__init__()
        self._df, self._log_n, self._by_count = df, log_n, by_count

    def __missing__(self, token: str) -> float:
        # `_idf` inlined: this runs for every token of every candidate cluster, once a headline.
        count = self._df.get(token, 0)
        idf = self._by_count.get(count)
        if idf is None:
            idf = self._by_count[count] = self._log_n - math.log(count + 1)
        w = self[token] = (idf * TEMPORAL_FACTOR if is_temporal(token) else idf) ** 2
        return w


def document_frequencies(token_lists: Iterable[Sequence[str]]) -> tuple[dict[str, int], int]:
    """(df, total) over a collection of headlines, as the stream would have counted them."""
    df: dict[str, int] = {}
    total = 0
    for tokens in token_lists:
        total += 1
        for t in set(tokens):
            df[t] = df.get(t, 0) + 1
    return df, total
