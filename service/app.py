"""Flask app factory and the v1 routes.

Batches are validated whole before anything is stored: a batch with one bad item is rejected as a whole (422,
with the item's index in `field`), so nothing is half-written.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import redis
from flask import Blueprint, Flask, current_app, jsonify, request

from headline_dedup.errors import InvalidRequest, NotFound, Overloaded
from headline_dedup.settings import Settings
from headline_dedup.storage.keys import INGEST_GROUP, Keys
from headline_dedup.storage.store import as_text
from service import errors
from service.schemas import BatchIn, HeadlineIn

INGEST_SCRIPT = (Path(__file__).resolve().parents[1] / "headline_dedup" / "storage" / "scripts" /
                 "ingest.lua").read_text(encoding="utf-8")
v1 = Blueprint("v1", __name__)
health = Blueprint("health", __name__)


def _ctx():
    return current_app.extensions["headline_dedup"]


def create_app(settings: Settings, client: redis.Redis) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    keys = Keys(settings.key_prefix, settings.namespace)
    app.extensions["headline_dedup"] = {"settings": settings, "client": client, "keys": keys,
                                        "ingest": client.register_script(INGEST_SCRIPT)}
    errors.register(app)
    app.register_blueprint(v1, url_prefix="/v1")
    app.register_blueprint(health)
    return app


def _parse_items() -> list[HeadlineIn]:
    ctype = (request.mimetype or "").lower()
    raw = request.get_data(cache=False)
    if ctype == "application/x-ndjson":
        try:
            docs = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidRequest("malformed_ndjson", f"malformed NDJSON: {exc}") from exc
        payload = {"headlines": docs}
    elif ctype == "application/json":
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidRequest("malformed_json", f"malformed JSON: {exc}") from exc
    else:
        from werkzeug.exceptions import UnsupportedMediaType

        raise UnsupportedMediaType("send application/json or application/x-ndjson")
    if isinstance(payload, dict) and "headlines" in payload:
        items = BatchIn.model_validate(payload).headlines
    elif isinstance(payload, dict):
        items = [HeadlineIn.model_validate(payload)]
    else:
        raise InvalidRequest("invalid_body", "expected a headline object or {\"headlines\": [...]}")
    if len(items) > _ctx()["settings"].max_batch:
        raise InvalidRequest("batch_too_large", f"at most {_ctx()['settings'].max_batch} headlines per request",
                             "headlines")
    return items


def _idem_key(item: HeadlineIn) -> str:
    basis = f"id:{item.id}" if item.id else "text:" + hashlib.sha256(
        f"{item.source or ''}\x1f{item.text}".encode()).hexdigest()
    return basis


@v1.post("/headlines")
def post_headlines():
    ctx = _ctx()
    settings, client, keys = ctx["settings"], ctx["client"], ctx["keys"]
    items = _parse_items()
    if client.xlen(keys.ingest) >= settings.max_backlog:
        raise Overloaded("backlog_full", "the ingest backlog is full, retry later", retry_after=5)
    docs = [json.dumps({**item.model_dump(exclude_none=True, exclude={"id"}), "client_id": item.id or ""})
            for item in items]
    idem = [keys.idem(_idem_key(i)) for i in items]
    ttl = int(settings.retention_days * 86400)
    result = ctx["ingest"](keys=[keys.seq, keys.ingest, *idem], args=[ttl, len(items), keys.tag, time.time(), *docs])
    ids = [as_text(r[0]) for r in result]
    wait = min(float(request.args.get("wait", 0) or 0), settings.max_wait_seconds)
    records = _wait_for(ids, wait) if wait > 0 else [_headline(i) for i in ids]
    out = [{**rec, "duplicate_request": not bool(r[1]), "status_url": f"/v1/headlines/{rec['id']}"}
           for rec, r in zip(records, result)]
    return jsonify({"headlines": out}), 202


def _wait_for(ids, seconds):
    deadline = time.monotonic() + seconds
    while True:
        records = [_headline(i) for i in ids]
        if all(r["status"] != "queued" for r in records) or time.monotonic() >= deadline:
            return records
        time.sleep(0.02)


def _headline(hid: str) -> dict:
    ctx = _ctx()
    raw = ctx["client"].hgetall(ctx["keys"].headline(hid))
    if not raw:
        raise NotFound("headline_not_found", f"no headline {hid}")
    h = {as_text(k): as_text(v) for k, v in raw.items()}
    return {"id": hid, "client_id": h.get("client_id") or None, "text": h.get("text"), "source": h.get("source"),
            "status": h.get("status"), "cluster_id": h.get("cluster_id"), "reason": h.get("reason"),
            "score": float(h["score"]) if h.get("score") else None}


@v1.get("/headlines/<hid>")
def get_headline(hid):
    return jsonify(_headline(hid))


def _cluster(cid: str, with_members: bool = True) -> dict:
    ctx = _ctx()
    client, keys = ctx["client"], ctx["keys"]
    meta = {as_text(k): as_text(v) for k, v in client.hgetall(keys.cluster(cid)).items()}
    if not meta:
        raise NotFound("cluster_not_found", f"no cluster {cid}")
    rep = meta.get("rep_id")
    out = {"id": cid, "size": int(meta["size"]), "representative": _headline(rep) if rep else None,
           "first_seen": float(meta.get("first_seen") or 0), "last_seen": float(meta.get("last_seen") or 0)}
    if with_members:
        members = {as_text(k): float(v) for k, v in client.hgetall(keys.cluster_members(cid)).items()}
        out["members"] = [{**_headline(m), "score": s} for m, s in sorted(members.items(), key=lambda x: int(x[0]))]
    return out


@v1.get("/clusters/<cid>")
def get_cluster(cid):
    return jsonify(_cluster(cid))


@v1.get("/clusters")
def list_clusters():
    """Clusters by last update, newest first. `cursor` is the `next_cursor` of the previous page."""
    ctx = _ctx()
    client, keys = ctx["client"], ctx["keys"]
    try:
        limit = max(1, min(int(request.args.get("limit", 50)), 500))
        min_size = int(request.args.get("min_size", 1))
        cursor = int(request.args.get("cursor", 0))
    except ValueError as exc:
        raise InvalidRequest("invalid_parameter", "limit, min_size and cursor are integers") from exc
    since = request.args.get("updated_since")
    lo = float(since) if since else "-inf"
    ids = client.zrevrangebyscore(keys.clusters, "+inf", lo, start=cursor, num=limit)
    page = [_cluster(as_text(c), with_members=request.args.get("members") == "true") for c in ids]
    page = [c for c in page if c["size"] >= min_size]
    nxt = cursor + len(ids) if len(ids) == limit else None
    return jsonify({"clusters": page, "next_cursor": nxt})


@v1.get("/stats")
def stats():
    ctx = _ctx()
    client, keys = ctx["client"], ctx["keys"]
    pending = client.xpending(keys.ingest, INGEST_GROUP) if client.exists(keys.ingest) else {"pending": 0}
    return jsonify({"headlines": int(client.get(keys.seq) or 0), "clusters": client.zcard(keys.clusters),
                    "backlog": client.xlen(keys.ingest) if client.exists(keys.ingest) else 0,
                    "pending": pending["pending"], "dead_letters": client.xlen(keys.dead)})


@health.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@health.get("/readyz")
def readyz():
    ctx = _ctx()
    client, keys = ctx["client"], ctx["keys"]
    client.ping()
    workers = list(client.scan_iter(match=keys.heartbeat_pattern(), count=100))
    if not workers:
        return jsonify({"status": "not_ready", "redis": "ok", "workers": 0}), 503
    return jsonify({"status": "ready", "redis": "ok", "workers": len(workers)})
