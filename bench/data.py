"""The benchmark inputs, read from ../shared/data (never copied into the repo; `SHARED`)."""
from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

from headline_dedup.feeds import parse_time, read_feed

# The project's shared data: ../shared/data beside the checkout, or where HEADLINE_DEDUP_SHARED_DATA says.
SHARED = Path(os.environ.get("HEADLINE_DEDUP_SHARED_DATA")
              or Path(__file__).resolve().parents[1].parent / "shared" / "data")
SCRAPE = SHARED / "fr-headlines-scrape" / "all_headlines.tsv.gz"
DEV = SHARED / "fr-news-day" / "dev.tsv"
SEED = SHARED / "seed-feed" / "feed.txt"


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    timestamp: float
    source: str = ""
    label: str = ""


def scrape(limit: int | None = None) -> list[Row]:
    """The first `limit` scraped headlines in scrape-time order (the file is in that order; checked as read),
    ids are row numbers."""
    if not SCRAPE.exists():
        raise SystemExit(f"benchmark data missing: {SCRAPE}")
    rows: list[Row] = []
    with gzip.open(SCRAPE, "rt", encoding="utf-8", newline="") as f:
        for i, r in enumerate(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if limit is not None and i >= limit:
                break
            row = Row(str(i), r["title"], parse_time(r["scrape_utc"]), r["outlet"])
            if rows and row.timestamp < rows[-1].timestamp:
                raise SystemExit(f"{SCRAPE} is not in scrape-time order at row {i}")
            rows.append(row)
    return rows


def dev() -> list[Row]:
    """The labelled one-day set, in time order."""
    with open(DEV, encoding="utf-8", newline="") as f:
        rows = [Row(r["row"], r["title"], parse_time(r["timestamp"]), "", r["cluster_id"])
                for r in csv.DictReader(f, delimiter="\t")]
    rows.sort(key=lambda r: r.timestamp)
    return rows


def seed(path: Path = SEED) -> list[str]:
    """The seed feed's headlines, in order: its "- " list, read as `headline-dedup` reads the file (the article
    after the list, with its "- ... -" sub-heads, is not among them)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(read_feed(f))
    if not any(r.body for r in rows):
        raise SystemExit(f"{path} is not read as a list of headlines followed by an article")
    return [r.text for r in rows if r.body is None]
