"""Per-client rate limits (Flask-Limiter, counted in the same Redis): 429 JSON with Retry-After past the limit.
A client is its API key (by digest) or, without one, its address; health and OpenAPI routes are exempt."""
from __future__ import annotations

import redis
from flask import Flask, current_app, request
from flask_limiter import Limiter

from headline_dedup.apikeys import digest
from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys


def _client() -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return "key:" + digest(header[7:].strip())[:16]
    return "addr:" + (request.remote_addr or "-")


def _public() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "required_scope", None) is None


def install(app: Flask, settings: Settings, client: redis.Redis, keys: Keys) -> None:
    if not settings.rate_limit:
        return
    Limiter(_client, app=app, default_limits=[settings.rate_limit], default_limits_exempt_when=_public,
            storage_uri="redis://", storage_options={"connection_pool": client.connection_pool},
            key_prefix=keys.rate_limit_prefix, strategy="moving-window", headers_enabled=True,
            swallow_errors=True)  # Redis down: the route itself answers 503
