"""The one mapping from exceptions to JSON HTTP errors: {"error": {"code", "message", "field"?}}."""
from __future__ import annotations

import redis
from flask import Flask, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from headline_dedup.logs import get_logger

from headline_dedup.errors import (Conflict, Forbidden, HeadlineDedupError, InvalidHeadline, InvalidRequest,
                                   NotFound, Overloaded, StorageUnavailable, Unauthenticated)

log = get_logger("headline_dedup.api")
STATUS = {InvalidHeadline: 422, InvalidRequest: 400, NotFound: 404, Conflict: 409, Overloaded: 503,
          StorageUnavailable: 503, Unauthenticated: 401, Forbidden: 403}


def error_body(code: str, message: str, field: str | None = None):
    err = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"error": err}


def register(app: Flask) -> None:
    @app.errorhandler(HeadlineDedupError)
    def _domain(exc: HeadlineDedupError):
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)
        resp = jsonify(error_body(exc.code, exc.message, exc.field))
        if isinstance(exc, Overloaded):
            resp.headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, Unauthenticated):
            resp.headers["WWW-Authenticate"] = 'Bearer realm="headline-dedup"'

        return resp, status

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        message = (f"unknown field {field!r}" if first["type"] == "extra_forbidden"
                   else first["msg"].removeprefix("Value error, "))  # our validators' own words
        return jsonify(error_body("invalid_field", message, field)), 422

    @app.errorhandler(redis.RedisError)
    def _redis(exc: redis.RedisError):
        log.warning("storage unavailable", error=f"{type(exc).__name__}: {exc}")
        resp = jsonify(error_body("storage_unavailable", "storage is unavailable, retry later"))
        resp.headers["Retry-After"] = "1"
        return resp, 503

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name
        if exc.code == 413 and app.config.get("MAX_CONTENT_LENGTH"):
            message = f"the request body is over the limit of {app.config['MAX_CONTENT_LENGTH']:,} bytes"
        elif exc.code == 404:  # werkzeug's text talks of spelling the URL "manually"
            message = f"no route {request.path}: /openapi.json lists them"
        elif exc.code == 405:
            message = f"{request.method} is not a method of {request.path}"
        resp = jsonify(error_body(code, message))
        for name, value in exc.get_headers():  # e.g. Allow on 405
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp, exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(error_body("internal_error", "internal error; quote the X-Request-ID header")), 500
