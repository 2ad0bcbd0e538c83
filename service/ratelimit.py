"""Per-client rate limits (Flask-Limiter, counted in the same Redis): 429 JSON with Retry-After past the limit.
A client is its API key (by name) when the bearer token is a key of the key ring, else its address: a token
that admits nothing (or any token, with authentication disabled) never buys a budget of its own. Health and
OpenAPI routes are exempt. `Retry-After` is the limiter's on a 429 only; a 503 keeps the service's own."""
from __future__ import annotations

import redis
from flask import Flask, Response, current_app, request
from flask_limiter import HeaderNames, Limiter
from redis.cluster import RedisCluster

from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys
from headline_dedup.service.auth import EXTENSION as AUTH
from headline_dedup.service.auth import bearer_token

LIMITER_RETRY_AFTER = "X-RateLimit-Retry-After"  # where the limiter puts its Retry-After (see _retry_after)


def _client() -> str:
    ring = current_app.extensions.get(AUTH)
    key = ring.find(bearer_token()) if ring is not None else None
    return f"key:{key.name}" if key else "addr:" + (request.remote_addr or "-")


def _public() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "required_scope", None) is None


def _retry_after(response: Response) -> Response:
    limiter_says = response.headers.pop(LIMITER_RETRY_AFTER, None)
    if response.status_code == 429 and limiter_says is not None:
        response.headers["Retry-After"] = limiter_says
    return response


def install(app: Flask, settings: Settings, client: redis.Redis, keys: Keys) -> None:
    if not settings.rate_limit:
        return
    # Registered before the limiter's own hook, so it runs after it (Flask runs them in reverse order): the
    # limiter would otherwise stamp Retry-After on every response, and overwrite a 503's.
    app.after_request(_retry_after)
    if isinstance(client, RedisCluster):  # the limiter's own cluster client, pointed at the same nodes
        node = client.get_default_node()
        storage = {"storage_uri": f"redis+cluster://{node.host}:{node.port}"}
    else:
        storage = {"storage_uri": "redis://", "storage_options": {"connection_pool": client.connection_pool}}
    Limiter(_client, app=app, default_limits=[settings.rate_limit], default_limits_exempt_when=_public, **storage,
            key_prefix=keys.rate_limit_prefix, strategy="moving-window", headers_enabled=True,
            header_name_mapping={HeaderNames.RETRY_AFTER: LIMITER_RETRY_AFTER},
            swallow_errors=True)  # Redis down: the route itself answers 503
