"""The `Idempotency-Key` header (contract.md §4): parsed, checked, and bound to a
digest of the request it came with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from flask import Response, request

from runstream.domain.model import Idempotency, JsonValue, NewEvent, Source

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def has_key() -> bool:
    """Whether the request carries an `Idempotency-Key` (a digest is worth
    computing)."""
    return HEADER in request.headers


def request_idempotency(body: object = None) -> Idempotency | None:
    """The request's key and the digest of what it asks for (`body`: the parsed
    request, which the handler read), or None without the header; a key that is
    not 1-128 printable ASCII is InvalidRequest."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    return Idempotency(key, request_digest(body))


def request_digest(body: object) -> str:
    """The digest of this request (`digest` of its method, path and body)."""
    return digest(request.method, request.path, body)


def digest(method: str, path: str, body: object) -> str:
    """SHA-256 of the method, the path and the canonical JSON of the body (keys
    sorted, no spaces), so a retry that re-serializes the same body matches;
    the ingest stream's groups use it with the path a POST would have."""
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    text = f"{method} {path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def canonical_events(events: Sequence[NewEvent]) -> list[JsonValue]:
    """What a batch of submitted events asks for, as plain JSON values."""
    return [
        [
            event.category.value,
            event.action,
            None if event.source is None else source_values(event.source),
            event.data,
        ]
        for event in events
    ]


def source_values(source: Source) -> list[JsonValue]:
    return [
        source.agent_id,
        source.agent_type.value,
        source.agent_name,
        source.team_name,
    ]


def mark_replayed(response: Response, replayed: bool) -> Response:
    """Add `Idempotent-Replayed: true` to the answer of a repeated key."""
    if replayed:
        response.headers[REPLAYED] = "true"
    return response
