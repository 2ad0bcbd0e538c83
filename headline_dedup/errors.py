"""The exception tree. Every error the package raises on purpose is a `HeadlineDedupError`.

Each carries a stable machine `code` and, where it applies, the offending `field`; the HTTP layer maps the
classes to status codes once (service/errors.py).
"""
from __future__ import annotations


class HeadlineDedupError(Exception):
    """Base class: `code` is a stable identifier, `message` is for people."""

    code = "error"

    def __init__(self, code: str | None = None, message: str = "", field: str | None = None):
        super().__init__(message or code or self.code)
        if code:
            self.code = code
        self.message = message or self.code
        self.field = field

    def __reduce__(self):  # whole across a pipe (`lookahead`), not rebuilt from the message alone
        return type(self), (self.code, self.message, self.field)


class InvalidHeadline(HeadlineDedupError):
    """A headline that can never be clustered: empty, too long, not UTF-8, unsupported language."""

    code = "invalid_headline"


class InvalidRequest(HeadlineDedupError):
    """A request that is malformed as a whole (bad JSON, wrong shape, too large)."""

    code = "invalid_request"


class NotFound(HeadlineDedupError):
    """The addressed headline, cluster or webhook does not exist."""

    code = "not_found"


class Conflict(HeadlineDedupError):
    """The request contradicts what is stored: a client id already used for a different headline text."""

    code = "conflict"


class ConfigurationError(HeadlineDedupError):
    """Settings or data files that cannot work (also: an index built with other parameters)."""

    code = "configuration_error"


class IndexMismatch(ConfigurationError):
    """The shared index was built with other signature or LSH parameters than this process uses."""

    code = "index_mismatch"


class StorageUnavailable(HeadlineDedupError):
    """Redis cannot be reached or answered with an error; retry later."""

    code = "storage_unavailable"


class ProcessLost(HeadlineDedupError):
    """A helper process stopped before its work was done (killed by a signal, out of memory)."""

    code = "process_lost"


class Overloaded(HeadlineDedupError):
    """Back-pressure: the ingest backlog is full or a rate limit was hit; retry after `retry_after` s."""

    code = "overloaded"

    def __init__(self, code: str | None = None, message: str = "", retry_after: int = 1):
        super().__init__(code, message)
        self.retry_after = retry_after

    def __reduce__(self):
        return type(self), (self.code, self.message, self.retry_after)


class Unauthenticated(HeadlineDedupError):
    """No API key, or one that is not configured."""

    code = "unauthenticated"


class Forbidden(HeadlineDedupError):
    """A valid API key without the scope the request needs."""

    code = "forbidden"
