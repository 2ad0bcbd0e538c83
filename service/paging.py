"""The paging of stream-backed lists (dead letters, corrections): `cursor` is the last entry id seen."""
from __future__ import annotations

from flask import request

from headline_dedup.errors import InvalidRequest
from headline_dedup.storage.events import valid_stream_id

MAX_LIMIT = 1000


def stream_page(default_limit: int = 100) -> tuple[str, int]:
    """(entry id to read after, "-" for the start; page size) from `?cursor=&limit=`; a 400 naming the bad one."""
    after = request.args.get("cursor", "-")
    if after != "-" and not valid_stream_id(after):
        raise InvalidRequest("invalid_parameter", "cursor is an entry id (ms-seq), as next_cursor gives", "cursor")
    try:
        limit = max(1, min(int(request.args.get("limit", default_limit)), MAX_LIMIT))
    except ValueError as exc:
        raise InvalidRequest("invalid_parameter", "limit is an integer", "limit") from exc
    return after, limit
