"""Request ids and the request log: each request gets an id (the client's `X-Request-ID` when it is sane, else a
fresh one), bound to every log record of the request, echoed in the response header, and stored with the
headlines it posts so that the worker's records carry it too."""
from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, g, request

from headline_dedup.logs import get_logger

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET = {"/metrics", "/healthz", "/readyz"}  # scraped every few seconds: logged at debug level only
log = get_logger("headline_dedup.api")


def request_id() -> str:
    """The current request's id."""
    return g.request_id


def install(app: Flask) -> None:
    @app.before_request
    def _start():
        presented = request.headers.get(HEADER, "")
        g.request_id = presented if _SANE.match(presented) else uuid.uuid4().hex
        g.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()  # threads are reused across requests
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid is None:  # failed before _start (e.g. routing): still give the client an id to quote
            rid = g.request_id = uuid.uuid4().hex
        response.headers[HEADER] = rid
        level = log.debug if request.path in _QUIET else log.info
        level("request", method=request.method, path=request.path, status=response.status_code,
              duration_ms=round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
              api_key=g.get("api_key"), request_id=rid)
        return response
