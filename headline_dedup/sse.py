"""A small Server-Sent Events reader (the client, `watch`, the tests): yields events and comments as they come."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator


@dataclass(frozen=True)
class SSE:
    id: str | None
    event: str
    data: dict | None  # None for a comment (heartbeat)


def parse(lines: Iterable[str]) -> Iterator[SSE]:
    """Events from the lines of an event stream (as `requests`' `iter_lines(decode_unicode=True)` gives them)."""
    eid, event, data = None, "message", []
    for line in lines:
        if line == "":
            if data:
                yield SSE(eid, event, json.loads("\n".join(data)))
            eid, event, data = None, "message", []
        elif line.startswith(":"):
            yield SSE(None, "comment", None)
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                eid = value
            elif name == "event":
                event = value
            elif name == "data":
                data.append(value)
