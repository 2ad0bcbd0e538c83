"""API-key authentication: each view declares the scope it needs with `@requires`; views without one (health,
OpenAPI) are public. Checked once per request, before the view."""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app, g, request

from headline_dedup.apikeys import KeyRing

EXTENSION = "headline_dedup.auth"


def requires(scope: str) -> Callable:
    """Mark a view as needing `scope` (place it right under the route decorator)."""
    def mark(view: Callable) -> Callable:
        view.required_scope = scope
        return view
    return mark


def bearer_token() -> str | None:
    """The request's bearer token, if it sends one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def install(app: Flask, keyring: KeyRing | None) -> None:
    """Enforce `keyring` (None: authentication explicitly disabled)."""
    app.extensions[EXTENSION] = keyring

    @app.before_request
    def _authorize():
        ring = current_app.extensions[EXTENSION]
        view = current_app.view_functions.get(request.endpoint or "")
        scope = getattr(view, "required_scope", None)
        if ring is not None and scope is not None:
            key = ring.identify(bearer_token())
            g.api_key = key.name  # before its rights are checked: a refused request's log names it too
            ring.permit(key, scope, g.get("namespace"))
