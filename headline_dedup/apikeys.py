"""API keys: generated once, kept only as SHA-256 hashes, checked in constant time, each with scopes.

A configured key is `name:scope+scope:sha256hex` (environment `HEADLINE_DEDUP_API_KEYS`, comma-separated, or
one per line in `HEADLINE_DEDUP_API_KEYS_FILE`). Scopes: `ingest` (post headlines), `read` (everything read,
including event streams and dry-run matches), `admin` (webhooks; implies the others).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from headline_dedup.errors import ConfigurationError, Forbidden, Unauthenticated

SCOPES = ("ingest", "read", "admin")
PREFIX = "hdk_"


@dataclass(frozen=True)
class ApiKey:
    name: str
    scopes: frozenset[str]
    digest: str  # sha256 hex of the key

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate(name: str, scopes: list[str]) -> tuple[str, str]:
    """A new key and the configuration entry that admits it (only the entry is to be stored)."""
    bad = set(scopes) - set(SCOPES)
    if bad or not scopes:
        raise ConfigurationError("invalid_scope", f"scopes are among {SCOPES}, got {sorted(bad) or 'none'}")
    key = PREFIX + secrets.token_urlsafe(32)
    return key, f"{name}:{'+'.join(sorted(scopes))}:{digest(key)}"


def parse(entries: str) -> list[ApiKey]:
    keys = []
    for raw in entries.replace("\n", ",").split(","):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            name, scopes, hexdigest = raw.split(":")
        except ValueError as exc:
            raise ConfigurationError("invalid_api_key_entry", "API key entries are name:scopes:sha256hex") from exc
        wanted = frozenset(s for s in scopes.split("+") if s)
        if not wanted <= set(SCOPES) or len(hexdigest) != 64:
            raise ConfigurationError("invalid_api_key_entry", f"bad API key entry for {name!r}")
        keys.append(ApiKey(name, wanted, hexdigest.lower()))
    return keys


def load(entries: str | None, file: Path | None) -> list[ApiKey]:
    text = entries or ""
    if file:
        text += "\n" + Path(file).read_text(encoding="utf-8")
    return parse(text)


class KeyRing:
    def __init__(self, keys: list[ApiKey]):
        self.keys = list(keys)

    def add(self, key: ApiKey) -> None:
        self.keys.append(key)

    def authorize(self, presented: str | None, scope: str) -> ApiKey:
        """The key for a presented bearer token, if it has `scope`; raises Unauthenticated or Forbidden."""
        if not presented:
            raise Unauthenticated(message="send Authorization: Bearer <API key>")
        d = digest(presented)
        found = None
        for k in self.keys:  # compare with every key, in constant time each
            if hmac.compare_digest(k.digest, d):
                found = k
        if found is None:
            raise Unauthenticated(message="unknown API key")
        if not found.allows(scope):
            raise Forbidden(message=f"this API key lacks the {scope!r} scope")
        return found
