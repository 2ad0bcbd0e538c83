"""`GET /v1/events`: cluster updates as Server-Sent Events, resumable.

`id:` is the events stream entry id, `event:` the type, `data:` the JSON payload. A reconnect with
`Last-Event-ID` (or `?since=`) resumes right after that id, so nothing within retention is missed or repeated.
When the id is older than what the stream still holds, a `reset` event tells the client to resync from
`GET /v1/clusters`; the stream then continues from the newest entry. Idle streams get a `: heartbeat` comment.
Each connection reads at most 100 entries at a time (bounded memory) and holds one server thread but no Redis
connection while idle (a per-process `EventHub` reads the stream for all of them); past `max_event_streams`
open streams a new one is refused with 503 + Retry-After, so streams never take the threads POSTs need.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, request, stream_with_context

from headline_dedup.errors import InvalidRequest, Overloaded
from headline_dedup.storage.eventhub import follow
from headline_dedup.storage.events import EVENT_TYPES, EventFilter, EventLog, valid_stream_id
from headline_dedup.service.auth import requires
from headline_dedup.service.context import services
from headline_dedup.service.schemas import EventQuery

bp = Blueprint("events", __name__)
RECONNECT_MS = 2000  # EventSource's reconnect delay after a cut


def _filter(q: EventQuery) -> EventFilter:
    types = frozenset(t for t in (q.types or "").split(",") if t)
    unknown = types - set(EVENT_TYPES)
    if unknown:
        raise InvalidRequest("invalid_parameter", f"unknown event types: {sorted(unknown)}", "types")
    return EventFilter(types, q.cluster, q.min_size, q.source)


def _frame(event_id: str, kind: str, data: dict) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@bp.get("/events")
@requires("read")
def events():
    """Server-Sent Events of cluster updates. Documented by hand in `service.openapi` (spectree's wrapper would
    consume the stream)."""
    q = EventQuery.model_validate(request.args.to_dict())
    flt = _filter(q)
    svc = services()
    log = EventLog(svc.client, svc.keys)
    given = [(name, value) for name, value in (("Last-Event-ID", request.headers.get("Last-Event-ID")),
                                               ("lastEventId", q.lastEventId), ("since", q.since)) if value]
    source, since = given[0] if given else (None, None)  # the header wins, then lastEventId
    if since is not None and not valid_stream_id(since):
        raise InvalidRequest("invalid_parameter", f"{source} is a stream id like 1700000000000-0", source)
    heartbeat = svc.settings.sse_heartbeat_seconds

    # Decided before the response starts, so that a Redis failure is still a clean 503.
    opening = [f"retry: {RECONNECT_MS}\n: connected\n\n"]
    after = since
    if after is None:
        after = log.last_id()
    elif log.trimmed_past(after, svc.settings.events_maxlen):
        after = log.last_id()
        opening.insert(0, _frame(after, "reset", {"reason": "events after this id were trimmed",
                                                  "resync": "/v1/clusters"}))

    if not svc.streams.acquire(blocking=False):
        raise Overloaded("too_many_streams", f"{svc.settings.max_event_streams} event streams are open on this "
                         "server; retry later", retry_after=5)
    hub = svc.hub.start()

    def stream():
        yield from opening
        for e in follow(hub, log, after, flt, heartbeat):
            yield ": heartbeat\n\n" if e is None else _frame(e.id, e.type, e.data)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    resp = Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)
    resp.call_on_close(svc.streams.release)  # the server closes the response when the client goes away
    return resp
