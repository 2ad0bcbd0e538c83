"""Liveness and readiness."""
from __future__ import annotations

from flask import Blueprint, jsonify

from service.context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Redis answers and at least one worker heartbeat is fresh."""
    svc = services()
    svc.client.ping()
    workers = sum(1 for _ in svc.client.scan_iter(match=svc.keys.heartbeat_pattern(), count=100))
    status = 200 if workers else 503
    return jsonify({"status": "ready" if workers else "not_ready", "redis": "ok", "workers": workers}), status
