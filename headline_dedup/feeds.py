"""Reading input feeds: a TSV with a header, or plain text with one headline per line."""
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
from typing import Iterator, TextIO

from headline_dedup.errors import InvalidRequest

_SCRAPE_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d)-(\d\d)-?(\d\d)Z?$")


@dataclass(frozen=True)
class FeedRow:
    id: str
    text: str
    timestamp: float = 0.0
    label: str | None = None
    id_given: bool = False  # the id comes from the input's id column (else it is the row's position)


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
    downstream) so that output lines match input lines.
    """
    first = stream.readline()
    header = first.rstrip("\r\n").split("\t")
    if "\t" in first and text_column in header:
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
    if label_column:
        raise InvalidRequest("invalid_input", f"input has no TSV header with column {text_column!r}")
    for n, line in enumerate([first] if first else []):
        yield FeedRow(str(n), line.rstrip("\r\n"))
    for n, line in enumerate(stream, 1):
        yield FeedRow(str(n), line.rstrip("\r\n"))
