"""The Flask app factory."""
from __future__ import annotations

import redis
from flask import Flask, jsonify

from headline_dedup import apikeys
from headline_dedup.apikeys import KeyRing
from headline_dedup.settings import Settings
from headline_dedup.storage.webhooks import WebhookStore
from headline_dedup.service import (auth, clusters, context, corrections, dashboard, errors, events, headlines, health,
                                    metrics, policy, ratelimit, requestlog, webhooks)
from headline_dedup.service.openapi import openapi_document, spec


def create_app(settings: Settings, client: redis.Redis, keyring: KeyRing | None = None) -> Flask:
    """The API on `client`. Requests need API keys from `keyring` (default: the configured keys) unless
    `settings.auth_disabled`."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False
    app.extensions[context.EXTENSION] = namespaces = context.Namespaces(settings, client)
    requestlog.install(app)  # first: every later hook and handler logs with the request id
    errors.register(app)
    app.before_request(namespaces.select_namespace)  # before `auth`'s check, which asks whether the key may use it
    services = namespaces.by_name[settings.namespace]
    ratelimit.install(app, settings, client, services.keys)
    metrics.install(app, {ns: (s.reader, WebhookStore(client, s.keys)) for ns, s in namespaces.by_name.items()})
    if settings.auth_disabled:
        auth.install(app, None)
    else:
        auth.install(app, keyring or apikeys.ring(settings.api_keys, settings.api_keys_file))
    app.register_blueprint(headlines.bp, url_prefix="/v1")
    app.register_blueprint(clusters.bp, url_prefix="/v1")
    app.register_blueprint(corrections.bp, url_prefix="/v1")
    app.register_blueprint(policy.bp, url_prefix="/v1")
    app.register_blueprint(events.bp, url_prefix="/v1")
    app.register_blueprint(webhooks.bp, url_prefix="/v1")
    app.register_blueprint(health.bp)
    app.register_blueprint(dashboard.bp)
    spec.register(app)  # also serves /apidoc/openapi.json and its viewers

    @app.get("/openapi.json")
    def openapi():
        return jsonify(openapi_document(app))

    return app
