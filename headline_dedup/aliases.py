"""The editable alias table: phrases that name the same thing ("Etats-Unis", "USA", "E.-U.").

A TSV file, one `alias<TAB>canonical` per line, `#` for comments. Both sides are folded and tokenised like
headlines, so "États-Unis" in the file matches "Etats Unis" in a headline. The bundled table lives in
`headline_dedup/data/aliases.tsv`; users extend it with `HEADLINE_DEDUP_ALIASES_FILE` (merged over it).
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from headline_dedup.errors import ConfigurationError

BUNDLED_ALIASES = Path(__file__).parent / "data" / "aliases.tsv"
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


def _words(phrase: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", phrase).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return tuple(_WORD.findall(text.replace("\u2019", "'")))


class AliasTable:
    """Maps word sequences to one canonical token, longest match first."""

    def __init__(self, pairs: dict[str, str] | None = None):
        self._map: dict[tuple[str, ...], str] = {}
        self._longest: dict[str, int] = {}  # a word -> the most words of a phrase it opens (most words open none)
        self.max_len = 1
        for alias, canonical in (pairs or {}).items():
            self.add(alias, canonical)

    def add(self, alias: str, canonical: str) -> None:
        words, target = _words(alias), "".join(_words(canonical))
        if not words or not target:
            raise ConfigurationError(f"alias {alias!r} -> {canonical!r} is empty after normalisation")
        self._map[words] = target
        self._longest[words[0]] = max(self._longest.get(words[0], 0), len(words))
        self.max_len = max(self.max_len, len(words))

    def __len__(self) -> int:
        return len(self._map)

    def apply(self, words: list[str]) -> list[str]:
        """Replace every known phrase in `words` by its canonical token."""
        if not self._map:
            return words
        out: list[str] = []
        i, n = 0, len(words)
        longest, known = self._longest.get, self._map.get
        while i < n:
            for size in range(min(longest(words[i], 0), n - i), 0, -1):
                target = known(tuple(words[i:i + size]))
                if target is not None:
                    out.append(target)
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    @classmethod
    def from_files(cls, *paths: Path | str) -> "AliasTable":
        """Load and merge alias files; later files override earlier ones."""
        table = cls()
        for path in paths:
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigurationError(f"cannot read alias file {path}: {exc}") from exc
            for lineno, line in enumerate(lines, 1):
                line = line.split("#", 1)[0].rstrip()
                if not line.strip():
                    continue
                parts = line.split("\t")
                if len(parts) != 2:
                    raise ConfigurationError(f"{path}:{lineno}: expected 'alias<TAB>canonical'")
                table.add(parts[0].strip(), parts[1].strip())
        return table


def default_aliases(extra: Path | str | None = None) -> AliasTable:
    """The bundled table, merged with `extra` when given."""
    return AliasTable.from_files(BUNDLED_ALIASES, *([extra] if extra else []))
