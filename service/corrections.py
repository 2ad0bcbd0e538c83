"""Editor corrections: merge, split, move (scope `edit`), and the log of who corrected what."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from headline_dedup.errors import InvalidRequest
from headline_dedup.service.auth import requires
from headline_dedup.service.bodies import read_payload
from headline_dedup.service.context import services
from headline_dedup.service.openapi import document, errors
from headline_dedup.service.paging import stream_page
from headline_dedup.service.schemas import CorrectionOut, CorrectionPage, MergeIn, MoveIn, SplitIn

bp = Blueprint("corrections", __name__)


def _body(model):
    body = read_payload(ndjson=False)
    if not isinstance(body, dict):
        raise InvalidRequest("invalid_body", "expected a JSON object")
    return model.model_validate(body)


def _answer(record: dict, went: str, left: str | None):
    """The correction, the cluster the headlines went to and the one they left (members included)."""
    found = services().reader.clusters([went, *([left] if left else [])], members=True)
    return jsonify({"correction": record, "cluster": found[0], "left": found[1] if left else None})


@bp.post("/clusters/<cid>/merge")
@requires("edit")
@document(json=MergeIn, resp=errors(400, 404, 409, 415, 422, HTTP_200=CorrectionOut), tags=["corrections"],
          skip_validation=True)
def merge(cid: str):
    """Merge this cluster into `into`: its members join that cluster, and its id answers with `merged` (GET
    follows it). Later rewrites of either side join the merged cluster."""
    item = _body(MergeIn)
    record = services().corrections.merge(cid, item.into, g.get("api_key"))
    return _answer(record, item.into, None)


@bp.post("/clusters/<cid>/split")
@requires("edit")
@document(json=SplitIn, resp=errors(400, 404, 409, 415, 422, HTTP_200=CorrectionOut), tags=["corrections"],
          skip_validation=True)
def split(cid: str):
    """Move `headlines` (members of this cluster) to a new cluster, set apart from this one: the engine will not
    put later headlines that match both back on this side."""
    item = _body(SplitIn)
    record = services().corrections.split(cid, item.headlines, g.get("api_key"))
    return _answer(record, record["new_cluster_id"], cid)


@bp.post("/headlines/<hid>/move")
@requires("edit")
@document(json=MoveIn, resp=errors(400, 404, 409, 415, 422, HTTP_200=CorrectionOut), tags=["corrections"],
          skip_validation=True)
def move(hid: str):
    """Move a headline to `cluster` (null: a new cluster of its own); the two clusters are set apart, and the
    headline stays where it was put."""
    item = _body(MoveIn)
    record = services().corrections.move(hid, item.cluster, g.get("api_key"))
    return _answer(record, record["cluster_id"], record["from"] if record["from_size"] else None)


@bp.get("/corrections")
@requires("read")
@document(resp=errors(400, HTTP_200=CorrectionPage), tags=["corrections"])
def corrections():
    """Corrections, oldest first: who (the API key's name), when, what; pass `next_cursor` as `cursor`."""
    after, limit = stream_page()
    items, nxt = services().corrections.log(after, limit)
    return jsonify({"corrections": items, "next_cursor": nxt})
