"""The Standard Webhooks signature, as the dispatcher signs deliveries and as receivers check them."""
from __future__ import annotations

import base64
import hashlib
import hmac


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature` value: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` (the key is the base64 part
    of a `whsec_` secret)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_matches(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any `v1,` signature of a `webhook-signature` header (space-separated) is this body's."""
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
