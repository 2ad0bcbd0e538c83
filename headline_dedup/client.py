"""A small typed client for a headline-dedup service.

    from headline_dedup.client import Client, verify_webhook

    with Client("http://127.0.0.1:8000", api_key="hdk_...") as api:
        [h] = api.post({"id": "afp-1", "text": "Zone euro: la croissance cale"}, wait=5)
        story = api.cluster(h["cluster_id"])
        for event in api.events(types=["cluster.created"]):  # resumes by itself after a cut
            ...

Posts are safe to retry: the service knows a re-post by its client id (`id`), or without one by its source and
text, so a retry after a timeout or a 503 returns the headlines already stored instead of storing them twice.
Every failure is an `ApiError` (the service's error code and message, and the HTTP status), `ServiceUnreachable`
when nothing answers, or `InvalidSignature` for a webhook that does not verify.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, TypedDict

import requests

from headline_dedup.sse import parse
from headline_dedup.errors import HeadlineDedupError
from headline_dedup.webhook_signature import signature_matches

MAX_BATCH = 1000  # the service's batch limit
RETRIED = {429, 502, 503, 504}


class ApiError(HeadlineDedupError):
    """The service refused a request: `status` is the HTTP status, `code`/`message`/`field` its error body."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(code, message, field)
        self.status = status


class ServiceUnreachable(HeadlineDedupError):
    code = "service_unreachable"


class InvalidSignature(HeadlineDedupError):
    code = "invalid_signature"


class HeadlineRecord(TypedDict, total=False):
    id: str
    client_id: str | None
    text: str
    source: str | None
    status: str  # queued | clustered | rejected | dead
    cluster_id: str | None
    reason: str | None
    score: float | None
    received_at: str  # ISO 8601 UTC
    event_at: str
    duplicate_request: bool


class Cluster(TypedDict, total=False):
    id: str
    size: int
    representative: HeadlineRecord | None
    sources: list[str]
    first_seen: str
    last_seen: str
    members: list[HeadlineRecord]
    merged: list[str]


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    data: dict


class Client:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30.0, retries: int = 4,
                 session: requests.Session | None = None, namespace: str | None = None):
        """`retries`: further attempts after a connection failure or a 429/502/503/504 (waiting `Retry-After`,
        else 0.5 s doubling); `namespace`: the desk's namespace on an API that serves several (`X-Namespace`)."""
        self.url, self.timeout, self.retries = url.rstrip("/"), timeout, retries
        self.session = session or requests.Session()
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"
        if namespace:
            self.session.headers["X-Namespace"] = namespace

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()

    # Headlines.

    def post(self, headlines: str | Mapping[str, Any] | Iterable[str | Mapping[str, Any]],
             wait: float | None = None) -> list[HeadlineRecord]:
        """Post one headline (a text or `{"text", "id"?, "source"?, "url"?, "lang"?, "published_at"?, "body"?}`)
        or many, in batches of `MAX_BATCH`; `wait`: seconds to wait for their clusters. Returns the stored
        headlines in input order."""
        items = [headlines] if isinstance(headlines, (str, Mapping)) else list(headlines)
        items = [{"text": h} if isinstance(h, str) else dict(h) for h in items]
        params = {"wait": wait} if wait else None
        out: list[HeadlineRecord] = []
        for i in range(0, len(items), MAX_BATCH):
            out += self._call("POST", "/v1/headlines", json={"headlines": items[i:i + MAX_BATCH]},
                              params=params)["headlines"]
        return out

    def headline(self, headline_id: str) -> HeadlineRecord:
        return self._call("GET", f"/v1/headlines/{headline_id}")

    def headline_by_client_id(self, client_id: str) -> HeadlineRecord:
        return self._call("GET", f"/v1/headlines/by-client-id/{client_id}")

    def match(self, text: str, lang: str = "fr") -> dict:
        """The cluster `text` would join now (nothing is stored)."""
        return self._call("POST", "/v1/match", json={"text": text, "lang": lang})

    # Clusters and corrections.

    def cluster(self, cluster_id: str) -> Cluster:
        return self._call("GET", f"/v1/clusters/{cluster_id}")

    def clusters(self, **filters: Any) -> Iterator[Cluster]:
        """Every cluster, newest first, page after page (`min_size`, `source`, `text`, `updated_since`,
        `members`, `limit`)."""
        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in filters.items() if v is not None}
        cursor: int | None = 0
        while cursor is not None:
            page = self._call("GET", "/v1/clusters", params={**params, "cursor": cursor})
            yield from page["clusters"]
            cursor = page["next_cursor"]

    def merge(self, cluster_id: str, into: str) -> dict:
        return self._call("POST", f"/v1/clusters/{cluster_id}/merge", json={"into": into})

    def split(self, cluster_id: str, headline_ids: list[str]) -> dict:
        return self._call("POST", f"/v1/clusters/{cluster_id}/split", json={"headlines": headline_ids})

    def move(self, headline_id: str, cluster_id: str | None) -> dict:
        return self._call("POST", f"/v1/headlines/{headline_id}/move", json={"cluster": cluster_id})

    # Events.

    def events(self, since: str | None = None, types: Iterable[str] | None = None, cluster: str | None = None,
               min_size: int = 0, reconnect: bool = True,
               on_cut: Callable[[Exception, str | None, float], None] | None = None) -> Iterator[Event]:
        """Cluster events from now (or after the event id `since`), for as long as the caller reads; after a cut
        it reconnects with `Last-Event-ID`, so nothing is missed or repeated (a `reset` event means resync).
        `on_cut(error, last event id, seconds before reconnecting)` hears of each cut."""
        params = {k: v for k, v in (("types", ",".join(types) if types else None), ("cluster", cluster),
                                    ("min_size", min_size or None)) if v}
        last, backoff = since, 0.5
        while True:
            headers = {"Last-Event-ID": last} if last else {}
            try:
                with self.session.get(f"{self.url}/v1/events", params=params, headers=headers, stream=True,
                                      timeout=(self.timeout, 60)) as resp:
                    if resp.status_code != 200:
                        raise _error(resp)
                    backoff = 0.5
                    for e in parse(resp.iter_lines(decode_unicode=True)):
                        if e.data is not None:
                            last = e.id or last
                            yield Event(e.id or "", e.event, e.data)
                cut: Exception = ConnectionError("the server ended the stream")
            except requests.RequestException as exc:
                cut = exc
            if not reconnect:
                return
            if on_cut:
                on_cut(cut, last, backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, 10)

    # The one way requests go out.

    def _call(self, method: str, path: str, **kwargs) -> Any:
        delay = 0.5
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                resp = self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
            except requests.ConnectionError as exc:
                if last:
                    raise ServiceUnreachable(message=f"no headline-dedup service answers at {self.url}: {exc}") \
                        from None
                time.sleep(delay)
            else:
                if resp.status_code < 400:
                    return resp.json() if resp.content else None
                if resp.status_code not in RETRIED or last:
                    raise _error(resp)
                time.sleep(float(resp.headers.get("Retry-After") or delay))
            delay = min(delay * 2, 10)
        raise AssertionError("unreachable")


def _error(resp: requests.Response) -> ApiError:
    try:
        err = resp.json()["error"]
        return ApiError(resp.status_code, err["code"], err["message"], err.get("field"))
    except (ValueError, KeyError, TypeError):
        return ApiError(resp.status_code, "http_error", resp.text[:200] or resp.reason)


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes | str, tolerance: float = 300) -> Event:
    """A webhook delivery checked as Standard Webhooks says: the signature over `webhook-id.webhook-timestamp.
    body` with the `whsec_` secret, and a timestamp within `tolerance` seconds (a replayed old delivery fails).
    `body`: the raw bytes received (a str is taken as their UTF-8 text, which is what deliveries send). Returns
    the event (deduplicate on its id: retries repeat it); raises `InvalidSignature`."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    low = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signature = low.get("webhook-id"), low.get("webhook-timestamp"), low.get("webhook-signature")
    if not (msg_id and stamp and signature):
        raise InvalidSignature(message="webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise InvalidSignature(message="webhook-timestamp is not a number") from None
    if abs(time.time() - timestamp) > tolerance:
        raise InvalidSignature(message="webhook-timestamp is outside the tolerance (a replay?)")
    if not signature_matches(secret, msg_id, timestamp, body, signature):
        raise InvalidSignature(message="the signature does not match the body")
    payload = json.loads(body)
    return Event(msg_id, payload.get("type", ""), payload.get("data", payload))
