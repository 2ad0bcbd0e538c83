"""Liveness and readiness."""
from __future__ import annotations

from flask import Blueprint, jsonify

from service.context import services
from service.openapi import document, errors
from service.schemas import HealthOut, ReadyOut

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@document(resp=errors(HTTP_200=HealthOut), tags=["operations"])
def healthz():
    """The process is alive."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@document(resp=errors(HTTP_200=ReadyOut, HTTP_503=ReadyOut), tags=["operations"])
def readyz():
    """Redis answers and at least one worker heartbeat is fresh."""
    svc = services()
    svc.client.ping()
    workers = sum(1 for _ in svc.client.scan_iter(match=svc.keys.heartbeat_pattern(), count=100))
    status = 200 if workers else 503
    return jsonify({"status": "ready" if workers else "not_ready", "redis": "ok", "workers": workers}), status
