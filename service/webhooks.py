"""Webhook management: register (the signing secret is shown once), list, read, delete, delivery log."""
from __future__ import annotations

from flask import Blueprint, jsonify

from headline_dedup.errors import InvalidRequest
from headline_dedup.storage.webhooks import WebhookStore, check_destination, public
from headline_dedup.service.auth import requires
from headline_dedup.service.bodies import read_payload
from headline_dedup.service.context import services
from headline_dedup.service.openapi import document, errors
from headline_dedup.service.schemas import DeliveryList, WebhookCreated, WebhookIn, WebhookList, WebhookOut

bp = Blueprint("webhooks", __name__)


def _store() -> WebhookStore:
    svc = services()
    return WebhookStore(svc.client, svc.keys)


@bp.post("/webhooks")
@requires("admin")
@document(json=WebhookIn, resp=errors(400, 415, 422, HTTP_201=WebhookCreated), tags=["webhooks"],
          skip_validation=True)
def create_webhook():
    """Register a webhook; deliveries are signed with the returned secret (Standard Webhooks)."""
    body = read_payload(ndjson=False)
    if not isinstance(body, dict):
        raise InvalidRequest("malformed_json", "expected a JSON object")
    item = WebhookIn.model_validate(body)
    check_destination(item.url, services().settings.webhook_allow_private)
    hook = _store().create(item.url, list(item.types))
    return jsonify({**public(hook), "secret": hook["secret"]}), 201


@bp.get("/webhooks")
@requires("admin")
@document(resp=errors(HTTP_200=WebhookList), tags=["webhooks"])
def list_webhooks():
    """Registered webhooks (secrets are never shown again)."""
    return jsonify({"webhooks": [public(h) for h in _store().all()]})


@bp.get("/webhooks/<webhook_id>")
@requires("admin")
@document(resp=errors(404, HTTP_200=WebhookOut), tags=["webhooks"])
def get_webhook(webhook_id: str):
    """One webhook: active or disabled (and why), consecutive failures."""
    return jsonify(public(_store().get(webhook_id)))


@bp.delete("/webhooks/<webhook_id>")
@requires("admin")
@document(resp=errors(404), tags=["webhooks"])
def delete_webhook(webhook_id: str):
    """Remove a webhook and its delivery log."""
    _store().delete(webhook_id)
    return "", 204


@bp.get("/webhooks/<webhook_id>/deliveries")
@requires("admin")
@document(resp=errors(404, HTTP_200=DeliveryList), tags=["webhooks"])
def deliveries(webhook_id: str):
    """The latest delivery attempts (newest first): event, attempt, HTTP status or error."""
    return jsonify({"deliveries": _store().deliveries(webhook_id)})
