"""Hostile and odd input (issue #18): oversized chunked bodies, deep nesting, bad times and cursors, NDJSON
line breaks, and the rate limiter's headers and buckets. Through the Flask app and, for chunked bodies, through
the real servers (threaded werkzeug, and gunicorn as `api` and `serve` run it)."""
import io
import json
import re
import time

import pytest
import requests

from headline_dedup import apikeys
from headline_dedup.settings import Settings
from headline_dedup.storage.keys import Keys
from headline_dedup.service import create_app
from headline_dedup.service.schemas import READABLE
from tests.e2e.conftest import api_process
from tests.e2e.test_live_server import live  # noqa: F401  (a threaded werkzeug server)

LIMIT = Settings().max_body_bytes


@pytest.fixture
def http(redis_client):
    return create_app(Settings(), redis_client).test_client()


# ECMAScript's `\s` (WhiteSpace and LineTerminator), the dialect of the OpenAPI document's patterns.
ECMA_SPACE = ("\t\n\x0b\x0c\r \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
              + "\u2028\u2029\u202f\u205f\u3000\ufeff")


def _stored(client) -> int:
    return int(client.get(Keys().seq) or 0)


def _oversized_ndjson() -> list[bytes]:
    """60 lines of 50 kB (3 MB, over the 2 MB default limit), each a valid headline."""
    return [json.dumps({"text": f"Titre numéro {i}", "body": "x" * 50_000}).encode() + b"\n" for i in range(60)]


def _oversized_json() -> bytes:
    return json.dumps({"headlines": [{"text": f"Titre numéro {i}", "body": "x" * 50_000}
                                     for i in range(60)]}).encode()


def _post_chunked(http, body: bytes, ctype: str, route: str = "/v1/headlines"):
    """Chunked as a WSGI server hands it over: no Content-Length, the input ended by the server."""
    return http.post(route, input_stream=io.BytesIO(body), content_type=ctype,
                     headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})


@pytest.mark.parametrize("body,ctype", [(b"".join(_oversized_ndjson()), "application/x-ndjson"),
                                        (_oversized_json(), "application/json")])
def test_a_chunked_body_over_the_limit_is_413_and_stores_nothing(http, redis_client, body, ctype):
    r = _post_chunked(http, body, ctype)
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "request_entity_too_large"
    assert _stored(redis_client) == 0
    r = _post_chunked(http, b"".join(_oversized_ndjson()[:30]), "application/x-ndjson")  # within: read whole
    assert r.status_code == 202 and len(r.get_json()["headlines"]) == 30


@pytest.fixture
def api_server(redis_server, tmp_path):
    """`headline-dedup api` (gunicorn gthread) in its own process, on the test Redis."""
    with api_process(redis_server.url, tmp_path, "--threads", "4") as url:
        yield url


@pytest.mark.parametrize("server", ["api_server", "live"])
def test_a_chunked_body_over_the_limit_is_413_through_a_real_server(request, redis_client, server):
    url = request.getfixturevalue(server)
    url = url if isinstance(url, str) else url[0]
    r = requests.post(f"{url}/v1/headlines", data=iter(_oversized_ndjson()),  # a generator: sent chunked
                      headers={"Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_entity_too_large"
    assert _stored(redis_client) == 0
    r = requests.post(f"{url}/v1/headlines", data=iter(_oversized_ndjson()[:2]),
                      headers={"Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.status_code == 202 and len(r.json()["headlines"]) == 2


def _nested(depth: int) -> bytes:
    return b'{"text": "Zone euro: la croissance cale", "source": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("route,body,ctype,code", [
    ("/v1/headlines", _nested(1_000), "application/json", "malformed_json"),
    ("/v1/headlines", _nested(100_000), "application/json", "malformed_json"),
    ("/v1/headlines", b'{"text": "Bon titre ici"}\n' + _nested(1_000), "application/x-ndjson", "malformed_ndjson"),
    ("/v1/match", _nested(1_000), "application/json", "malformed_json"),
    ("/v1/webhooks", b'{"url": "https://example.org/h", "types": ' + b"[" * 1_000 + b"]" * 1_000 + b"}",
     "application/json", "malformed_json"),
])
def test_json_nested_too_deep_is_400_malformed(http, redis_client, route, body, ctype, code):
    r = http.post(route, data=body, content_type=ctype)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code
    assert _stored(redis_client) == 0


@pytest.mark.parametrize("published_at", ["2022-13-45T10-0000Z", "hier soir", "2025-02-30T10:00:00Z",
                                          "Thu, 30 Feb 2025 10:00:00 +0100", "2025-01-30T10:00:00+25:00", " "])
def test_an_unparseable_published_at_is_422_naming_the_field(http, redis_client, published_at):
    r = http.post("/v1/headlines", json={"text": "Zone euro: la croissance cale", "published_at": published_at})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "published_at", r.get_json()
    good = {"text": "Le Sénat veut renforcer la protection des haies", "published_at": "2025-01-30T10:00:00Z"}
    r = http.post("/v1/headlines", json={"headlines": [good, {"text": "Zone euro", "published_at": published_at}]})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "headlines.1.published_at"
    ndjson = json.dumps(good) + "\n" + json.dumps({"text": "Zone euro", "published_at": published_at})
    r = http.post("/v1/headlines", data=ndjson.encode(), content_type="application/x-ndjson")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "headlines.1.published_at"
    assert _stored(redis_client) == 0


def test_the_event_time_used_is_reported(http):
    now = time.time()
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    posted = [{"text": "Zone euro: la croissance cale", "published_at": iso(now - 3600)},
              {"text": "Le Sénat veut renforcer la protection des haies", "published_at": iso(now + 86400)},
              {"text": "Trump annonce l'envoi de migrants à Guantanamo", "published_at": "2001-01-01T00:00:00Z"},
              {"text": "Lyon: grève des bus lundi"}]
    r = http.post("/v1/headlines", json={"headlines": posted})
    assert r.status_code == 202
    hs = r.get_json()["headlines"]
    assert [h["event_time_source"] for h in hs] == ["published_at", "received", "received", "received"]
    assert hs[0]["event_at"] == iso(now - 3600).replace("Z", ".000Z")  # times are ISO 8601 UTC in responses
    assert all(h["event_at"] == h["received_at"] for h in hs[1:])  # the future, older than retention, none
    for h in hs:
        again = http.get(f"/v1/headlines/{h['id']}").get_json()
        assert (again["event_at"], again["event_time_source"]) == (h["event_at"], h["event_time_source"])


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])  # str.splitlines splits there too
def test_ndjson_lines_end_at_newlines_only(http, separator):
    item = {"text": f"Zone euro:{separator}la croissance cale", "source": f"afp{separator}"}
    line = json.dumps(item, ensure_ascii=False).encode()
    assert http.post("/v1/headlines", data=line, content_type="application/json").status_code == 202
    r = http.post("/v1/headlines", data=line + b"\r\n" + line + b"\n", content_type="application/x-ndjson")
    assert r.status_code == 202 and len(r.get_json()["headlines"]) == 2


def test_retry_after_is_only_on_a_429_and_on_the_services_own_503(redis_client):
    http = create_app(Settings(max_backlog=1), redis_client).test_client()
    r = http.post("/v1/headlines", json={"text": "Zone euro: la croissance cale"})
    assert r.status_code == 202 and "X-RateLimit-Remaining" in r.headers and "Retry-After" not in r.headers
    assert "Retry-After" not in http.get("/v1/stats").headers
    r = http.post("/v1/headlines", json={"text": "Le Sénat veut renforcer la protection des haies"})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "backlog_full"
    assert r.headers["Retry-After"] == "5"  # the service's, not the limiter's window
    limited = create_app(Settings(rate_limit="5/minute"), redis_client).test_client()
    assert [limited.get("/v1/stats").status_code for _ in range(6)] == [200] * 5 + [429]
    assert int(limited.get("/v1/stats").headers["Retry-After"]) > 0


def test_only_a_key_of_the_key_ring_gets_a_rate_limit_budget_of_its_own(redis_client):
    key, entry = apikeys.generate("desk", ["read"])
    http = create_app(Settings(auth_disabled=False, api_keys=entry, rate_limit="5/minute"), redis_client).test_client()
    invented = [http.get("/v1/stats", headers={"Authorization": f"Bearer hdk_invented{i}"}).status_code
                for i in range(6)]
    assert invented == [401] * 5 + [429]  # one address, one budget, whatever the tokens
    assert http.get("/v1/stats").status_code == 429
    assert http.get("/v1/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200

    open_app = create_app(Settings(rate_limit="5/minute", namespace="open"), redis_client).test_client()
    statuses = [open_app.get("/v1/stats", headers={"Authorization": f"Bearer t{i}"}).status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]  # authentication disabled: no token is a key


@pytest.mark.parametrize("cursor", ["x", "", "1-x", "-1", "1-2-3", str(2 ** 64), f"1-{2 ** 64}", "9" * 20 + "-0"])
def test_a_dead_letter_cursor_that_is_no_stream_id_is_400_naming_it(http, cursor):
    r = http.get("/v1/dead-letters", query_string={"cursor": cursor})
    assert r.status_code == 400
    assert r.get_json()["error"] == {"code": "invalid_parameter", "field": "cursor",
                                     "message": "cursor is an entry id (ms-seq), as next_cursor gives"}


def test_every_dead_letter_cursor_in_range_is_read(http):
    for cursor in ["-", "0", "0-0", "1795399503571-16", f"{2 ** 64 - 1}", f"{2 ** 64 - 1}-{2 ** 64 - 1}"]:
        r = http.get("/v1/dead-letters", query_string={"cursor": cursor})
        assert r.status_code == 200 and r.get_json() == {"dead_letters": [], "next_cursor": None}, cursor


def test_a_chunked_webhook_body_over_the_limit_is_413(http):
    body = json.dumps({"url": "https://example.org/h", "types": ["cluster.created"] * 200_000}).encode()
    r = _post_chunked(http, body, "application/json", "/v1/webhooks")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "request_entity_too_large"


@pytest.mark.parametrize("wait", ["-1", "nan", "inf", "abc"])
def test_a_wait_that_is_no_duration_is_400_naming_it(http, redis_client, wait):
    r = http.post(f"/v1/headlines?wait={wait}", json={"text": "Zone euro: la croissance cale"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "wait"
    assert _stored(redis_client) == 0


def test_the_text_pattern_calls_blank_what_either_regex_dialect_calls_space():
    python_space = {chr(c) for c in range(0x110000) if re.match(r"\s", chr(c))}
    assert python_space ^ set(ECMA_SPACE)  # they differ: the pattern has to name the difference
    assert not [ch for ch in python_space | set(ECMA_SPACE) if re.match(READABLE, ch)]


@pytest.mark.parametrize("text", ["\x1c", "\x1f", "\x85", "\ufeff", " \ufeff\u3000 "])
def test_a_text_blank_in_either_regex_dialect_is_422_and_stores_nothing(http, redis_client, text):
    r = http.post("/v1/headlines", json={"text": text})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "text", r.get_json()
    assert r.get_json()["error"]["message"] == "text is blank or contains a NUL character"  # our words alone
    assert _stored(redis_client) == 0
    assert http.post("/v1/headlines", json={"text": f"\ufeff{text}Titre"}).status_code == 202


def test_an_unknown_route_and_a_wrong_method_say_so_in_json(http):
    r = http.get("/v1/nosuch")
    assert r.status_code == 404 and r.get_json()["error"] == {
        "code": "not_found", "message": "no route /v1/nosuch: /openapi.json lists them"}
    r = http.delete("/v1/headlines")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert r.get_json()["error"]["message"] == "DELETE is not a method of /v1/headlines"
