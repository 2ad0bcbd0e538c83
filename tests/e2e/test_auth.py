"""API keys with scopes: 401 without or with an unknown key, 403 without the scope, public health."""
import pytest

from headline_dedup import apikeys
from headline_dedup.errors import ConfigurationError
from headline_dedup.settings import Settings
from service import create_app


@pytest.fixture
def http(redis_client):
    keys = {s: apikeys.generate(s, [s]) for s in ("ingest", "read", "admin")}
    settings = Settings(auth_disabled=False, api_keys=",".join(entry for _, entry in keys.values()))
    client = create_app(settings, redis_client).test_client()
    return client, {s: {"Authorization": f"Bearer {k}"} for s, (k, _) in keys.items()}


def test_keys_and_scopes(http):
    client, auth = http
    body = {"text": "Zone euro: la croissance cale"}
    r = client.post("/v1/headlines", json=body)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthenticated"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = client.post("/v1/headlines", json=body, headers={"Authorization": "Bearer hdk_not-a-key"})
    assert r.status_code == 401
    assert client.post("/v1/headlines", json=body, headers=auth["read"]).status_code == 403
    assert client.post("/v1/headlines", json=body, headers=auth["ingest"]).status_code == 202
    assert client.get("/v1/clusters", headers=auth["ingest"]).status_code == 403
    assert client.get("/v1/clusters", headers=auth["read"]).status_code == 200
    assert client.get("/v1/events?types=nope", headers=auth["read"]).status_code == 400  # read may stream
    assert client.get("/v1/webhooks", headers=auth["read"]).status_code == 403
    assert client.get("/v1/webhooks", headers=auth["admin"]).status_code == 200
    assert client.get("/v1/clusters", headers=auth["admin"]).status_code == 200  # admin implies the rest
    for public in ("/healthz", "/openapi.json"):
        assert client.get(public).status_code == 200


def test_keys_are_kept_hashed_and_entries_validated():
    key, entry = apikeys.generate("desk", ["read"])
    assert key not in entry and apikeys.digest(key) in entry
    with pytest.raises(ConfigurationError):
        apikeys.parse("desk:superuser:" + "0" * 64)
