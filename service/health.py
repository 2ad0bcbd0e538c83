"""Liveness and readiness."""
from __future__ import annotations

from flask import Blueprint, jsonify

from headline_dedup.storage.heartbeats import Heartbeats
from headline_dedup.service.context import namespaces, services
from headline_dedup.service.openapi import document, errors
from headline_dedup.service.schemas import HealthOut, ReadyOut

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@document(resp=errors(HTTP_200=HealthOut, HTTP_503=HealthOut), tags=["operations"])
def healthz():
    """The process is alive and its own background threads (each namespace's event stream reader) are running,
    whatever namespace the request names; no Redis call, so a Redis outage never makes an orchestrator restart a
    healthy API."""
    if any(svc.hub.failed for svc in namespaces().by_name.values()):
        return jsonify({"status": "failing", "reason": "an event stream reader thread has stopped"}), 503
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@document(resp=errors(HTTP_200=ReadyOut, HTTP_503=ReadyOut), tags=["operations"])
def readyz():
    """Redis answers and at least one clusterer finished a step within the heartbeat TTL (a clusterer that
    cannot work, e.g. while Redis refuses writes, stops beating). Dispatchers are reported: without one,
    webhook deliveries wait (nothing is lost: they resume from the events stream)."""
    svc = services()
    svc.client.ping()
    fresh = Heartbeats(svc.client, svc.keys, svc.settings.heartbeat_ttl).fresh()
    workers = len(fresh["clusterer"])
    ready = workers > 0
    body = {"status": "ready" if ready else "not_ready", "redis": "ok", "workers": workers,
            "dispatchers": len(fresh["dispatcher"]), "backlog": svc.ingestor.backlog(),
            "oldest_queued_seconds": round(svc.reader.ingest_lag(), 3)}
    return jsonify(body), 200 if ready else 503
