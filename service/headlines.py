"""Headline routes: ingest (single, batch, NDJSON), read back, and the dry-run match.

A batch is validated whole before anything is stored: one bad item rejects the batch (422, the item's index
in `field`), so nothing is ever half-written.
"""
from __future__ import annotations

import time

from flask import Blueprint, g, jsonify, request

from headline_dedup.errors import Conflict, InvalidHeadline, InvalidRequest, NotFound
from headline_dedup.ports import Headline
from headline_dedup.service.auth import requires
from headline_dedup.service.bodies import read_payload
from headline_dedup.service.context import services
from headline_dedup.service.openapi import document, errors
from headline_dedup.service.requestlog import request_id
from headline_dedup.service.schemas import BatchIn, HeadlineIn, HeadlineOut, IngestOut, MatchIn, MatchOut

bp = Blueprint("headlines", __name__)
def _items() -> tuple[list[HeadlineIn], bool]:
    """The posted headlines, and whether they came as a batch (error fields are then `headlines.<i>.…`)."""
    payload = read_payload()
    batch = isinstance(payload, dict) and "headlines" in payload
    if batch:
        items = BatchIn.model_validate(payload).headlines
    elif isinstance(payload, dict):
        items = [HeadlineIn.model_validate(payload)]
    else:
        raise InvalidRequest("invalid_body", 'expected a headline object or {"headlines": [...]}')
    limit = services().settings.max_batch
    if len(items) > limit:
        raise InvalidRequest("batch_too_large", f"at most {limit} headlines per request", "headlines")
    return items, batch


def _wait_seconds() -> float:
    try:
        wait = float(request.args.get("wait", 0) or 0)
    except ValueError:
        wait = -1.0
    if not 0 <= wait < float("inf"):  # negative, NaN or infinite
        raise InvalidRequest("invalid_parameter", "wait is a number of seconds, 0 or more", "wait")
    return max(0.0, min(wait, services().settings.max_wait_seconds))


def read_headlines(ids: list[str], wait: float = 0.0) -> list[dict]:
    """The headlines, waiting up to `wait` seconds for all of them to leave the queue."""
    deadline = time.monotonic() + wait
    reader = services().reader
    while True:
        records = reader.headlines(ids)
        if None in records:
            raise NotFound("headline_not_found", f"no headline {ids[records.index(None)]}")
        if wait <= 0 or all(r["status"] != "queued" for r in records) or time.monotonic() >= deadline:
            return records
        time.sleep(0.02)


@bp.post("/headlines")
@requires("ingest")
@document(json=BatchIn, resp=errors(400, 409, 413, 415, 422, 503, HTTP_202=IngestOut), tags=["headlines"],
          skip_validation=True)
def post_headlines():
    """Post one headline, a batch `{"headlines": [...]}` or NDJSON; `?wait=N` waits for the clusters. Posting
    the same client id again (or, without one, the same source and text) returns the first headline
    (`duplicate_request`); a client id already used for another text is a 409 and stores nothing."""
    items, batch = _items()
    wait = _wait_seconds()
    api_key = g.get("api_key")  # the key's name: client ids are the key holder's own (None: no authentication)
    try:
        accepted = services().ingestor.submit([{**i.model_dump(), "api_key": api_key} for i in items],
                                              request_id())
    except Conflict as exc:
        if not batch:  # name the field as a single object's validation errors do
            exc.field = "id"
        raise
    records = read_headlines([a.headline_id for a in accepted], wait)
    out = [{**rec, "duplicate_request": not a.new, "status_url": f"/v1/headlines/{rec['id']}"}
           for rec, a in zip(records, accepted)]
    return jsonify({"headlines": out}), 202


@bp.get("/headlines/<hid>")
@requires("read")
@document(resp=errors(404, HTTP_200=HeadlineOut), tags=["headlines"])
def get_headline(hid: str):
    """A headline: status queued | clustered | rejected | dead, and its cluster."""
    return jsonify(read_headlines([hid])[0])


@bp.get("/headlines/by-client-id/<path:client_id>")
@requires("read")
@document(resp=errors(404, HTTP_200=HeadlineOut), tags=["headlines"])
def get_headline_by_client_id(client_id: str):
    """A headline by the id its client gave it (`id` when posted): the client ids of the calling key only, as
    long as the headline is retained."""
    hid = services().ingestor.headline_for_client_id(client_id, g.get("api_key"))
    if hid is None:
        raise NotFound("headline_not_found", f"no headline with client id {client_id!r} for this key")
    return jsonify(read_headlines([hid])[0])


@bp.post("/match")
@requires("read")
@document(json=MatchIn, resp=errors(400, 415, 422, 503, HTTP_200=MatchOut), tags=["headlines"],
          skip_validation=True)
def match():
    """Dry run: the cluster a headline would join now, with scores; nothing is stored."""
    body = read_payload(ndjson=False)
    if not isinstance(body, dict):
        raise InvalidRequest("invalid_body", "expected a JSON object")
    item = MatchIn.model_validate(body)
    svc = services()
    decision = svc.match(Headline("match", item.text, item.lang, None, time.time()))
    engine = svc.matcher
    joins = None if decision.created or decision.cluster_id is None else decision.cluster_id
    try:
        tokens = list(engine.prepare(Headline("match", item.text, item.lang)).tokens)
    except InvalidHeadline:  # the decision's reason says why
        tokens = []
    runner = decision.runner_up
    return jsonify({"would_join": joins, "reason": decision.reason, "score": round(decision.score, 4),
                    "semantic": None if decision.semantic is None else round(decision.semantic, 4),
                    "tokens": tokens,
                    "runner_up": {"cluster_id": runner[0], "score": round(runner[1], 4)} if runner and runner[0]
                    else None,
                    "cluster": svc.reader.clusters([joins])[0] if joins else None})
