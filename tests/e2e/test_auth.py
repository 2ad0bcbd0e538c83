"""API keys with scopes: 401 without or with an unknown key, 403 without the scope, public health."""
import pytest

from headline_dedup import apikeys
from headline_dedup.errors import ConfigurationError
from headline_dedup.settings import Settings
from headline_dedup.service import create_app


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


def test_client_ids_belong_to_the_key_that_posts_them(redis_client):
    (key_a, entry_a), (key_b, entry_b) = apikeys.generate("a", ["ingest"]), apikeys.generate("b", ["ingest"])
    client = create_app(Settings(auth_disabled=False, api_keys=f"{entry_a},{entry_b}"), redis_client).test_client()

    def post(key, text):
        r = client.post("/v1/headlines", json={"id": "1", "text": text}, headers={"Authorization": f"Bearer {key}"})
        return r.status_code, r.get_json()["headlines"][0] if r.status_code == 202 else r.get_json()["error"]["code"]

    status_a, first_a = post(key_a, "Zone euro: la croissance cale")
    status_b, first_b = post(key_b, "Le Sénat veut renforcer la protection des haies")  # b's own id "1"
    assert (status_a, status_b) == (202, 202) and first_a["id"] != first_b["id"]
    assert not first_b["duplicate_request"]
    _, again_a = post(key_a, "Zone euro: la croissance cale")
    assert again_a["id"] == first_a["id"] and again_a["duplicate_request"]
    assert post(key_b, "Zone euro: la croissance cale") == (409, "id_conflict")


def test_keys_are_kept_hashed_and_entries_validated():
    key, entry = apikeys.generate("desk", ["read"])
    assert key not in entry and apikeys.digest(key) in entry
    with pytest.raises(ConfigurationError):
        apikeys.parse("desk:superuser:" + "0" * 64)


def test_rate_limit_per_key_is_429_json_with_retry_after(redis_client):
    (key_a, entry_a), (key_b, entry_b) = apikeys.generate("a", ["read"]), apikeys.generate("b", ["read"])
    settings = Settings(auth_disabled=False, api_keys=f"{entry_a},{entry_b}", rate_limit="5/minute")
    client = create_app(settings, redis_client).test_client()
    a, b = {"Authorization": f"Bearer {key_a}"}, {"Authorization": f"Bearer {key_b}"}
    assert [client.get("/v1/stats", headers=a).status_code for _ in range(5)] == [200] * 5
    r = client.get("/v1/stats", headers=a)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "too_many_requests"
    assert int(r.headers["Retry-After"]) > 0
    assert client.get("/v1/stats", headers=b).status_code == 200  # another key has its own budget
    assert client.get("/healthz").status_code == 200  # exempt


def test_a_headline_is_found_by_the_client_id_of_the_key_that_posted_it(redis_client):
    from headline_dedup import apikeys
    from headline_dedup.service import create_app
    from headline_dedup.settings import Settings

    a, a_entry = apikeys.generate("desk-a", ["ingest", "read"])
    b, b_entry = apikeys.generate("desk-b", ["ingest", "read"])
    http = create_app(Settings(auth_disabled=False, api_keys=f"{a_entry},{b_entry}"), redis_client).test_client()
    as_a, as_b = ({"Authorization": f"Bearer {k}"} for k in (a, b))
    posted = http.post("/v1/headlines", json={"id": "afp/2025-01-30/001", "text": "Zone euro: la croissance cale"},
                       headers=as_a).get_json()["headlines"][0]
    got = http.get("/v1/headlines/by-client-id/afp/2025-01-30/001", headers=as_a)
    assert got.status_code == 200 and got.get_json()["id"] == posted["id"]
    assert got.get_json()["client_id"] == "afp/2025-01-30/001"
    other = http.get("/v1/headlines/by-client-id/afp/2025-01-30/001", headers=as_b)  # another key's ids
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "headline_not_found"
    assert http.get("/v1/headlines/by-client-id/afp/2025-01-30/001").status_code == 401


def test_the_openapi_document_declares_the_bearer_scheme_and_each_operations_scope(http):
    client, auth = http
    doc = client.get("/openapi.json").get_json()
    assert doc["components"]["securitySchemes"]["bearer"] == {**doc["components"]["securitySchemes"]["bearer"],
                                                              "type": "http", "scheme": "bearer"}
    ops = {(method.upper(), path): op for path, item in doc["paths"].items() for method, op in item.items()}
    expected = {("POST", "/v1/headlines"): "ingest", ("GET", "/v1/clusters"): "read", ("GET", "/v1/events"): "read",
                ("POST", "/v1/clusters/{cid}/merge"): "edit", ("POST", "/v1/headlines/{hid}/move"): "edit",
                ("GET", "/v1/webhooks"): "admin", ("GET", "/v1/headlines/by-client-id/{client_id}"): "read"}
    for op, scope in expected.items():
        assert ops[op]["security"] == [{"bearer": [scope]}], op
        assert {"401", "403", "429"} <= set(ops[op]["responses"]), op
    for public in (("GET", "/healthz"), ("GET", "/readyz")):
        assert ops[public]["security"] == [] and not {"401", "403", "429"} & set(ops[public]["responses"])
    assert "/" not in doc["paths"]  # the desk's page is not part of the API
    r = client.get("/v1/clusters?min-size=2", headers=auth["read"])  # misspelt: refused, not ignored
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "min-size"
