"""API keys: generated once, kept only as SHA-256 hashes, checked in constant time, each with scopes.

A configured key is `name:scope+scope:sha256hex`, or `name:scope+scope:sha256hex:namespace+namespace` for a key
allowed only those namespaces (environment `HEADLINE_DEDUP_API_KEYS`, comma-separated, or one per line in
`HEADLINE_DEDUP_API_KEYS_FILE`). Scopes: `ingest` (post headlines), `read` (everything read,
including event streams and dry-run matches), `edit` (editors' corrections: merge, split, move), `admin`
(webhooks; implies the others).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from headline_dedup.errors import ConfigurationError, Forbidden, Unauthenticated

SCOPES = ("ingest", "read", "edit", "admin")
PREFIX = "hdk_"


@dataclass(frozen=True)
class ApiKey:
    name: str
    scopes: frozenset[str]
    digest: str  # sha256 hex of the key
    namespaces: frozenset[str] | None = None  # the namespaces it may use (None: every one the API serves)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def may_use(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate(name: str, scopes: list[str], namespaces: list[str] | None = None) -> tuple[str, str]:
    """A new key and the configuration entry that admits it (only the entry is to be stored); `namespaces`: the
    only ones it may use (None: all)."""
    bad = set(scopes) - set(SCOPES)
    if bad or not scopes:
        raise ConfigurationError("invalid_scope", f"scopes are among {SCOPES}, got {sorted(bad) or 'none'}")
    key = PREFIX + secrets.token_urlsafe(32)
    entry = f"{name}:{'+'.join(sorted(scopes))}:{digest(key)}"
    return key, entry + (f":{'+'.join(sorted(namespaces))}" if namespaces else "")


def parse(entries: str) -> list[ApiKey]:
    keys = []
    for raw in entries.replace("\n", ",").split(","):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        parts = raw.split(":")
        if len(parts) not in (3, 4):
            raise ConfigurationError("invalid_api_key_entry",
                                     "API key entries are name:scopes:sha256hex[:namespace+namespace]")
        name, scopes, hexdigest = parts[:3]
        wanted = frozenset(s for s in scopes.split("+") if s)
        spaces = frozenset(n for n in parts[3].split("+") if n) if len(parts) == 4 else None
        if not wanted <= set(SCOPES) or len(hexdigest) != 64 or spaces == frozenset():
            raise ConfigurationError("invalid_api_key_entry", f"bad API key entry for {name!r}")
        keys.append(ApiKey(name, wanted, hexdigest.lower(), spaces))
    return keys


def load(entries: str | None, file: Path | None) -> list[ApiKey]:
    text = entries or ""
    if file:
        text += "\n" + Path(file).read_text(encoding="utf-8")
    return parse(text)


def ring(entries: str | None, file: Path | None) -> "KeyRing":
    """The key ring of the configuration: `entries` and the key file (re-read when it changes)."""
    return KeyRing(load(entries, file), file, entries)


def save(path: Path, name: str, scopes: list[str], namespaces: list[str] | None = None) -> str:
    """A new key for `name` in the key file at `path` (created, owner-only, if missing), replacing that name's
    earlier entry; returns the key (only its hash is stored, so it is shown this once)."""
    key, entry = generate(name, scopes, namespaces)
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = [line for line in lines if line.strip().split(":", 1)[0] != name]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join([*kept, entry]) + "\n")
    os.replace(tmp, path)  # readers see the old file or the new one, never half of it
    return key


class KeyRing:
    """The keys that are admitted. With `file`, entries from that file are re-read when it changes, so a key
    made with `headline-dedup keygen --save` works without a restart."""

    def __init__(self, keys: list[ApiKey], file: Path | None = None, fixed: str | None = None):
        self.keys = list(keys)
        self.file, self.fixed = (Path(file) if file else None), fixed
        self._stamp = self._file_stamp()
        self._checked = time.monotonic()

    def _file_stamp(self):
        try:
            st = self.file.stat() if self.file else None
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino) if st else None

    def _refresh(self) -> None:
        if self.file is None or time.monotonic() - self._checked < 1.0:
            return
        self._checked = time.monotonic()
        stamp = self._file_stamp()
        if stamp != self._stamp:
            try:
                self.keys = load(self.fixed, self.file)
                self._stamp = stamp
            except (OSError, ConfigurationError):
                pass  # keep the keys we have; the next change is tried again

    def add(self, key: ApiKey) -> None:
        self.keys.append(key)

    def find(self, presented: str | None) -> ApiKey | None:
        """The key a bearer token presents, if it is admitted (compared with every key in constant time)."""
        self._refresh()
        if not presented:
            return None
        d = digest(presented)
        found = None
        for k in self.keys:
            if hmac.compare_digest(k.digest, d):
                found = k
        return found

    def identify(self, presented: str | None) -> ApiKey:
        """The key a bearer token presents; raises Unauthenticated."""
        if not presented:
            raise Unauthenticated(message="send Authorization: Bearer <API key>")
        found = self.find(presented)
        if found is None:
            raise Unauthenticated(message="unknown API key")
        return found

    @staticmethod
    def permit(key: ApiKey, scope: str, namespace: str | None = None) -> None:
        """Raises Forbidden unless `key` has `scope` (and may use `namespace`)."""
        if not key.allows(scope):
            raise Forbidden(message=f"this API key lacks the {scope!r} scope")
        if namespace is not None and not key.may_use(namespace):
            raise Forbidden("namespace_forbidden", f"this API key may not use namespace {namespace!r}")
