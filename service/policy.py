"""The assignment thresholds at run time: read them (scope `read`), change them (scope `admin`)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from headline_dedup.errors import InvalidRequest
from headline_dedup.service.auth import requires
from headline_dedup.service.bodies import read_payload
from headline_dedup.service.context import services
from headline_dedup.service.openapi import document, errors
from headline_dedup.service.schemas import PolicyIn, PolicyOut

bp = Blueprint("policy", __name__)


@bp.get("/settings/policy")
@requires("read")
@document(resp=errors(HTTP_200=PolicyOut), tags=["settings"])
def get_policy():
    """The thresholds in force, and the configured ones they started from."""
    return jsonify(services().policies.describe())


@bp.put("/settings/policy")
@requires("admin")
@document(json=PolicyIn, resp=errors(400, 415, 422, HTTP_200=PolicyOut), tags=["settings"], skip_validation=True)
def put_policy():
    """Change some thresholds: each worker applies them from its next batch; the change is logged with who made it
    (`GET /v1/corrections`) and sent as a `policy.changed` event. `headline-dedup evaluate FILE --sweep` on your
    own labelled headlines recommends a live threshold."""
    body = read_payload(ndjson=False)
    if not isinstance(body, dict):
        raise InvalidRequest("invalid_body", "expected a JSON object")
    changes = PolicyIn.model_validate(body).model_dump(exclude_none=True)
    if not changes:
        raise InvalidRequest("nothing_to_change", "send at least one of threshold, live_threshold, live_hours, "
                             "core_threshold")
    svc = services()
    svc.policies.put(changes, g.get("api_key"))
    return jsonify(svc.policies.describe())
