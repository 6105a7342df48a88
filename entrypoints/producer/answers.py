"""The service's answers as a client reads them: the JSON of a 2xx answer, or
the contract's error object (`{"code", "message"}`, contract.md §4) raised as
ServiceError. The producer's transport and `runstream tail` both read them so.
"""

from __future__ import annotations

import json
from typing import Any

# Answers that say "not stored, ask again": the service restarting, a backend
# failing over, a proxy in front of it without an upstream, a rate limit.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class ServiceError(Exception):
    """A JSON error answer of the service: status, code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES


def decode(status: int, raw: bytes) -> Any:
    """The JSON of a 2xx answer, else the ServiceError it describes (an answer
    without the error object, e.g. a proxy's page, as `HTTP_<status>`)."""
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if 200 <= status < 300:
        return body
    if isinstance(body, dict) and "code" in body:
        raise ServiceError(status, str(body["code"]), str(body.get("message", "")))
    text = raw[:200].decode("utf-8", "replace").strip()
    raise ServiceError(status, f"HTTP_{status}", text or "no details")
