"""Reading request bodies, the one way every route does: JSON (or NDJSON where a route takes it) within
`MAX_CONTENT_LENGTH` whether the length is declared or the body comes chunked, each malformation a 4xx."""
from __future__ import annotations

import json

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from headline_dedup.errors import InvalidRequest

READ_CHUNK = 64 * 1024


def read_body() -> bytes:
    """The request body; RequestEntityTooLarge (413) past `MAX_CONTENT_LENGTH`, whether its length was declared or
    it came chunked."""
    limit = request.max_content_length
    if request.content_length is not None or limit is None or "wsgi.input_terminated" not in request.environ:
        return request.get_data(cache=False)  # werkzeug refuses a declared length over the limit up front
    # Chunked: werkzeug's request.stream ends quietly at the limit (a silently truncated body), so read the
    # server-terminated input ourselves, up to one byte past the limit.
    stream, body = request.input_stream, bytearray()
    while len(body) <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
    raise RequestEntityTooLarge()


def read_payload(ndjson: bool = True) -> object:
    """The decoded JSON body; with `ndjson`, an `application/x-ndjson` body as `{"headlines": [lines]}`."""
    ctype = (request.mimetype or "").lower()
    accepted = ("application/json", "application/x-ndjson") if ndjson else ("application/json",)
    if ctype not in accepted:
        raise UnsupportedMediaType(f"send {' or '.join(accepted)}")
    kind = "ndjson" if ctype.endswith("ndjson") else "json"
    try:
        text = read_body().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"malformed_{kind}", f"malformed {kind.upper()}: {exc}") from exc
    if kind == "json":
        return _json(text, kind)
    # Lines end at "\n" only (a "\r" before it is JSON whitespace): str.splitlines would also split inside JSON
    # strings, at U+2028, U+0085 and the like, which JSON leaves unescaped.
    return {"headlines": [_json(line, kind, f" line {n}") for n, line in enumerate(text.split("\n"), 1)
                          if line.strip()]}


def _json(text: str, kind: str, where: str = "") -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"malformed_{kind}", f"malformed {kind.upper()}{where}: {exc}") from exc
    except RecursionError:  # the decoder recurses once per nesting level
        raise InvalidRequest(f"malformed_{kind}", f"malformed {kind.upper()}{where}: nested too deeply") from None
