"""Webhook subscriptions and their delivery log in Redis (the signature: `headline_dedup.webhook_signature`)."""
from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

from headline_dedup.errors import InvalidRequest, NotFound
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text
from headline_dedup.times import iso_or_none

LOG_LENGTH = 100
PUBLIC_FIELDS = ("id", "url", "types", "active", "disabled_reason", "failures", "created_at")


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a webhook may be delivered to `ip` when private addresses are not allowed."""
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Destination:
    """A webhook URL resolved once: the addresses that were checked (a delivery connects to the first), and
    what the request names: the host (Host header, TLS server name and certificate), the path and query."""
    scheme: str
    host: str
    port: int
    target: str
    addresses: tuple[str, ...]
    userinfo: str | None = None

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == (443 if self.scheme == "https" else 80) else f"{name}:{self.port}"


def check_destination(url: str, allow_private: bool) -> None:
    """On registration: refuse URLs that are not http(s) or whose host resolves to any loopback, private,
    link-local or reserved address (SSRF), unless `allow_private` (then the URL is only parsed: its name may
    not resolve yet). Each delivery checks again with `resolve_destination` (DNS may change)."""
    if allow_private:
        _parse(url)
    else:
        resolve_destination(url, allow_private)


def resolve_destination(url: str, allow_private: bool) -> Destination:
    """Before a delivery: resolve the URL's host once and check every address as `check_destination` does
    (unless `allow_private`). The delivery then connects to these addresses only: resolving the name again
    could answer differently (DNS rebinding)."""
    parts, scheme, host, port = _parse(url)
    try:
        host = host if host.isascii() else host.encode("idna").decode()
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InvalidRequest("invalid_webhook_url", f"cannot resolve {host}", "url") from exc
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)))
    if not addresses:
        raise InvalidRequest("invalid_webhook_url", f"cannot resolve {host}", "url")
    for address in addresses if not allow_private else ():
        if not is_public_address(ipaddress.ip_address(address)):
            raise InvalidRequest("forbidden_webhook_url",
                                 f"{host} resolves to a non-public address ({address}); a receiver on this "
                                 "machine or network needs HEADLINE_DEDUP_WEBHOOK_ALLOW_PRIVATE=true", "url")
    userinfo = parts.netloc.rpartition("@")[0] or None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(scheme, host, port, target, addresses, userinfo)


def _parse(url: str):
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme, parts.hostname, parts.port  # these parse (and may reject) it
    except ValueError:
        scheme = host = port = None
    if scheme not in ("http", "https") or not host:
        raise InvalidRequest("invalid_webhook_url", "webhook url must be http(s)://host/...", "url")
    return parts, scheme, host, port or (443 if scheme == "https" else 80)


class WebhookStore:
    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys

    def create(self, url: str, types: list[str]) -> dict:
        """A new webhook; the returned dict carries the secret (shown this once)."""
        hook = {"id": "wh_" + secrets.token_hex(8), "url": url, "types": sorted(set(types)), "active": True,
                "disabled_reason": None, "failures": 0, "created_at": time.time(),
                "secret": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()}
        self.client.hset(self.keys.webhooks, hook["id"], json.dumps(hook))
        return hook

    def all(self) -> list[dict]:
        return sorted((json.loads(v) for v in self.client.hvals(self.keys.webhooks)), key=lambda h: h["created_at"])

    def get(self, webhook_id: str) -> dict:
        raw = self.client.hget(self.keys.webhooks, webhook_id)
        if raw is None:
            raise NotFound("webhook_not_found", f"no webhook {webhook_id}")
        return json.loads(raw)

    def delete(self, webhook_id: str) -> None:
        if not self.client.hdel(self.keys.webhooks, webhook_id):
            raise NotFound("webhook_not_found", f"no webhook {webhook_id}")
        self.client.delete(self.keys.webhook_log(webhook_id))

    def record(self, webhook_id: str, entry: dict, success: bool, disable_after: int,
               disable_reason: str | None = None) -> dict | None:
        """Log one attempt and update the failure count (reset by a success); disable the webhook after
        `disable_after` consecutive failures or when `disable_reason` is given. Returns the updated webhook."""
        log_key = self.keys.webhook_log(webhook_id)

        def update(pipe: redis.client.Pipeline):
            raw = pipe.hget(self.keys.webhooks, webhook_id)
            if raw is None:
                return None
            hook = json.loads(raw)
            hook["failures"] = 0 if success else hook["failures"] + 1
            reason = disable_reason or (f"{hook['failures']} consecutive failed deliveries"
                                        if hook["failures"] >= disable_after else None)
            if reason and hook["active"]:
                hook["active"], hook["disabled_reason"] = False, reason
            pipe.multi()
            pipe.hset(self.keys.webhooks, webhook_id, json.dumps(hook))
            pipe.lpush(log_key, json.dumps(entry))
            pipe.ltrim(log_key, 0, LOG_LENGTH - 1)
            return hook

        return self.client.transaction(update, self.keys.webhooks, value_from_callable=True)

    def deliveries(self, webhook_id: str) -> list[dict]:
        self.get(webhook_id)
        logged = [json.loads(as_text(x)) for x in self.client.lrange(self.keys.webhook_log(webhook_id), 0, -1)]
        return [{**d, "at": iso_or_none(d.get("at"))} for d in logged]


def public(hook: dict) -> dict:
    """What the API shows of a webhook: no secret, times in ISO 8601."""
    return {**{k: hook.get(k) for k in PUBLIC_FIELDS}, "created_at": iso_or_none(hook.get("created_at"))}
