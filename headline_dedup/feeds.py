"""Reading input feeds: a TSV with a header; plain text, one headline per line; a list of headlines followed by
one article (the seed feed's format); one article per file (`read_article`)."""
from __future__ import annotations

import csv
import gzip
import io
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from itertools import chain
from typing import Iterable, Iterator, TextIO

from headline_dedup.errors import InvalidRequest
from headline_dedup.leads import is_date_line, is_subhead, lead_sentence, strip_date_prefix

_SCRAPE_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d)-(\d\d)-?(\d\d)Z?$")
MAX_BODY_CHARS = 100_000  # the API's limit on a body: a longer block of text is not taken for an article
MAX_TITLE_CHARS = 300  # a longer first line is the body's first paragraph
PROSE_MIN_CHARS = 200
_TITLE_LABEL = re.compile(r"^titre\s*:\s*", re.IGNORECASE)
_LINE_END = re.compile(r"\r\n?|\n")  # as a stream's lines end (str.splitlines would also cut at U+2028)
_FULL_STOP = re.compile(r"(?<!\.)\.[\s\"»”’)]*$")  # ends a sentence with a full stop (not "...")


@dataclass(frozen=True)
class FeedRow:
    id: str
    text: str
    timestamp: float = 0.0
    label: str | None = None
    id_given: bool = False  # the id comes from the input's id column (else it is the row's position)
    body: str | None = None  # an article's body (its title, or its lead without a title, is `text`)


def parse_time(value: str) -> float:
    """Seconds since the epoch from ISO 8601, RFC 2822 as RSS writes it ("Thu, 30 Jan 2025 10:00:00 +0100") or
    the scrape format `2022-01-12T09-0447Z`; a time without a zone is UTC; 0 if empty. Anything else, out-of-range
    fields included ("2022-13-45T10-0000Z"), raises InvalidRequest (`invalid_time`) and nothing else."""
    value = value.strip()
    if not value:
        return 0.0
    try:
        dt = _datetime(value)
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()
    except (ValueError, OverflowError, TypeError) as exc:
        raise InvalidRequest("invalid_time", f"cannot parse time {value!r}") from exc


def _datetime(value: str) -> datetime:
    m = _SCRAPE_TIME.match(value)
    if m:
        return datetime(*map(int, m.groups()), tzinfo=timezone.utc)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return parsedate_to_datetime(value)


def open_input(path: str) -> TextIO:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict")
    if path.endswith(".gz"):
        return gzip.open(Path(path), "rt", encoding="utf-8", newline="")
    return open(Path(path), encoding="utf-8", newline="")


def read_feed(stream: TextIO, text_column: str = "title", id_column: str = "row", time_column: str | None = None,
              label_column: str | None = None) -> Iterator[FeedRow]:
    """Rows of a TSV (when the first line is a header naming `text_column`) or of plain text.

    Plain text: one headline per line, ids are 0-based line numbers, blank lines are kept (and rejected
    downstream) so that output lines match input lines. Except for a list of headlines followed by one article,
    the seed feed's format, which is recognised when all of these hold (else the file is plain text):
    - the first line is a list item: it starts with "- " (and is no sub-head "- ... -");
    - the list items (blank lines between them allowed) are followed by a block of other lines that runs to the
      end of the input: no list item after it (sub-heads "- ... -" and blank lines are part of it);
    - that block reads as an article: a first line and a body whose paragraphs (sub-heads aside) hold at least
      `PROSE_MIN_CHARS` characters, at least half of them in lines ending with a full stop (headlines rarely
      do), and it is at most `MAX_BODY_CHARS` long.
    Then each list item is a headline without its "- " (id: its line number), blank lines are skipped, and the
    block is ONE row (id: the line number of its first line) read as `read_article` reads a file.
    """
    first = stream.readline()
    header = first.rstrip("\r\n").split("\t")
    if "\t" in first and text_column in header:
        missing = [c for c in (time_column, label_column) if c and c not in header]
        if missing:  # else every row would go without its time or label, silently
            raise InvalidRequest("invalid_input", f"the header has no column {missing[0]!r} (its columns: "
                                 f"{', '.join(header)})")
        reader = csv.DictReader(stream, fieldnames=header, delimiter="\t", quoting=csv.QUOTE_MINIMAL)
        for n, rec in enumerate(reader):
            given = rec.get(id_column)
            yield FeedRow(
                id=given or str(n),
                text=rec.get(text_column) or "",
                timestamp=parse_time(rec.get(time_column) or "") if time_column else 0.0,
                label=rec.get(label_column) if label_column else None,
                id_given=bool(given),
            )
        return
    if label_column or time_column:  # columns only a TSV has: a header without the text column is a mistake
        found = f" (its header: {', '.join(header)})" if "\t" in first else ""
        raise InvalidRequest("invalid_input", f"input has no TSV header with column {text_column!r}{found}")
    yield from _plain_rows(chain([first], stream) if first else iter(()))


def read_article(stream: TextIO, id: str, where: str | None = None) -> FeedRow:
    """A whole input as ONE article: a title line, then the body.

    A first line "Titre : ..." gives the title after the label. Date lines above the title are dropped. A first
    line that reads as body rather than title (it starts with a date, "date 2025-01 Si ce tout début...", ends
    with a full stop, or is longer than `MAX_TITLE_CHARS`) means there is no title: the lead (the body's first
    sentence, `leads.lead_sentence`) stands in as the text, and that line is the body's first. Blank lines
    around the body are dropped. Raises InvalidRequest (`invalid_article`, naming `where`, else `id`) for an
    input with no text, no title and no sentence, or a body over `MAX_BODY_CHARS`.
    """
    where = where or id
    text = stream.read(MAX_BODY_CHARS + MAX_TITLE_CHARS * 4)  # the body, a title and room for blank lines
    if stream.read(1):
        raise InvalidRequest("invalid_article", f"{where}: longer than an article can be (a body of at most "
                                                f"{MAX_BODY_CHARS:,} characters)")
    return _article(_LINE_END.split(text), id, where)


def _plain_rows(lines: Iterator[str]) -> Iterator[FeedRow]:
    # Only an input that opens with a list item is held (until its end, or until it cannot be a list + article).
    held: list[str] = []
    block_start, block_chars = None, 0
    for raw in lines:
        line = raw.rstrip("\r\n")
        held.append(line)
        if len(held) == 1 and not _is_list_item(line):
            break
        if block_start is None:
            if line.strip() and not _is_list_item(line):
                block_start = len(held) - 1
        elif _is_list_item(line):
            break
        if block_start is not None:
            block_chars += len(line) + 1
            if block_chars > MAX_BODY_CHARS:
                break
    else:
        if block_start is not None and _reads_as_article(held[block_start:]):
            for n, line in enumerate(held[:block_start]):
                if line.strip():
                    yield FeedRow(str(n), line[2:].strip())
            yield _article(held[block_start:], str(block_start), f"the article at line {block_start + 1}")
            return
    for n, line in enumerate(held):
        yield FeedRow(str(n), line)
    for n, raw in enumerate(lines, len(held)):
        yield FeedRow(str(n), raw.rstrip("\r\n"))


def _is_list_item(line: str) -> bool:
    return line.startswith("- ") and bool(line[2:].strip()) and not is_subhead(line)


def _reads_as_article(block: list[str]) -> bool:
    lines = [line.strip() for line in block if line.strip()]
    if len(lines) < 2 or is_subhead(lines[0]):
        return False
    paragraphs = [line for line in lines[1:] if not is_subhead(line)]
    chars = sum(map(len, paragraphs))
    ended = sum(len(line) for line in paragraphs if _FULL_STOP.search(line))
    return chars >= PROSE_MIN_CHARS and 2 * ended >= chars


def _article(lines: Iterable[str], id: str, where: str) -> FeedRow:
    lines = [line.rstrip() for line in lines]
    while lines and (not lines[0].strip() or is_date_line(lines[0].strip())):
        lines.pop(0)
    if not lines:
        raise InvalidRequest("invalid_article", f"{where}: no text")
    first = lines[0].strip()
    label = _TITLE_LABEL.match(first)
    if label:
        title: str | None = first[label.end():].strip()
        if not title:
            raise InvalidRequest("invalid_article", f"{where}: an empty title after {first!r}")
        lines = lines[1:]
    elif _starts_body(first):
        title = None
    else:
        title, lines = first, lines[1:]
    if title:
        title = " ".join(title.split())  # "DeepSeek\xa0 l'intelligence": one space
    body = "\n".join(lines).strip()
    if len(body) > MAX_BODY_CHARS:
        raise InvalidRequest("invalid_article", f"{where}: a body of {len(body):,} characters, more than "
                                                f"{MAX_BODY_CHARS:,}")
    text = title or lead_sentence(body)
    if not text:
        raise InvalidRequest("invalid_article", f"{where}: no title and no sentence in the body")
    return FeedRow(id, text, body=body or None)


def _starts_body(line: str) -> bool:
    return strip_date_prefix(line) != line or len(line) > MAX_TITLE_CHARS or bool(_FULL_STOP.search(line))
