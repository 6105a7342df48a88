"""One message of the ingest stream: a group `{"run", "key", "events"}` in, its
answer out, with the same checks, the same idempotency digest and the same
error codes as `POST /runs/{run}/events` with that `Idempotency-Key`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from runstream.application.append_events import MAX_BATCH
from runstream.domain.envelope import parse_new_event
from runstream.domain.errors import InvalidRequest, RunNotFound
from runstream.domain.model import Appended, Idempotency, NewEvent
from runstream.entrypoints.http.body import clean_object
from runstream.entrypoints.http.idempotency import canonical_events, digest
from runstream.entrypoints.http.validation import MAX_ID

FIELDS = frozenset({"run", "key", "events"})


@dataclass(frozen=True)
class Group:
    run_id: int
    events: list[NewEvent]
    idempotency: Idempotency


def group_key(raw: bytes) -> str | None:
    """The message's key when it can be found (an error answer names it)."""
    try:
        key = json.loads(raw).get("key")
    except (ValueError, AttributeError, RecursionError):
        return None
    return key if isinstance(key, str) else None


def parse_group(raw: bytes, max_bytes: int) -> Group:
    """The group, checked as a POST of its events is (InvalidRequest,
    InvalidEvent, EventTooLarge; RunNotFound for a run id that is none)."""
    body = clean_object(raw, depth_checked=True)
    if set(body) != FIELDS:
        raise InvalidRequest('a group is {"run", "key", "events"} and nothing else')
    run_id, key, batch = body["run"], body["key"], body["events"]
    if isinstance(run_id, bool) or not isinstance(run_id, int):
        raise RunNotFound(f"run {run_id!r} not found")
    if not 1 <= run_id <= MAX_ID:
        raise RunNotFound(f"run {run_id!r} not found")
    if not isinstance(key, str):
        raise InvalidRequest("a group's key is a string")
    if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
        raise InvalidRequest(f"events must be a list of 1 to {MAX_BATCH} events")
    try:
        events = [parse_new_event(item, max_bytes) for item in batch]
    except RecursionError:
        raise InvalidRequest("the request body is nested too deeply") from None
    return Group(run_id, events, Idempotency(key, group_digest(run_id, events)))


def group_digest(run_id: int, events: list[NewEvent]) -> str:
    """The digest `POST /runs/{run_id}/events` gives the same events: a group
    and a POST under one key are the same request, so a group resent by POST
    after the service refused the stream is a replay, not a reuse."""
    return digest("POST", f"/runs/{run_id}/events", canonical_events(events))


def stored_answer(key: str, stored: Appended) -> bytes:
    # Ids are `<ms>-<n>` and sequences integers: only the key needs escaping.
    ids = '","'.join([str(e.id) for e in stored])
    sequences = ",".join([str(e.sequence) for e in stored])
    replayed = ',"replayed":true' if stored.replayed else ""
    return (
        f'{{"key":{json.dumps(key)},"ids":["{ids}"],'
        f'"sequences":[{sequences}]{replayed}}}'
    ).encode()


def error_answer(key: str | None, code: str, message: str, status: int) -> bytes:
    error = {"code": code, "message": message}
    return json.dumps({"key": key, "error": error, "status": status}).encode()
