"""Instants as the API writes and reads them: ISO 8601 in UTC with a `Z` (Redis keeps epoch seconds)."""
from __future__ import annotations

from datetime import datetime, timezone


def iso_time(epoch: float) -> str:
    """Seconds since the epoch as ISO 8601 UTC with a `Z`, to the millisecond (fixed width: sorts as text)."""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_or_none(epoch: float | str | None) -> str | None:
    return iso_time(float(epoch)) if epoch not in (None, "") else None

