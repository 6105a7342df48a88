"""The V2 envelope (contract.md §2): validating submitted events, writing them out."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

from runstream.domain.errors import EventTooLarge, InvalidEvent
from runstream.domain.model import (
    AgentType,
    Category,
    NewEvent,
    Source,
    StoredEvent,
    dump_json,
)

ACTION_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
DEFAULT_MAX_EVENT_BYTES = 1024 * 1024
_SOURCE_FIELDS = ("agent_id", "agent_type", "agent_name", "team_name")
# Worst-case width of the fields the store adds (id, sequence, timestamp, run_id),
# so that an event accepted here never grows past the limit once stored.
_STORED_OVERHEAD = len(
    '{"id":"18446744073709551615-18446744073709551615","run_id":9223372036854775807,'
    '"timestamp":"2025-01-01T12:00:00.001Z","sequence":9223372036854775807,'
    '"source":,"event":{"category":"","action":""},"data":}'
)


def format_timestamp(ms: int) -> str:
    """UTC ISO 8601 with milliseconds and a Z suffix."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_timestamp(text: str) -> int:
    """Milliseconds since the epoch of a timestamp written by format_timestamp."""
    if (
        len(text) == 24
        and text[19] == "."
        and text[23] == "Z"
        and text[20:23].isdigit()
    ):
        return _second_ms(text[:19]) + int(text[20:23])  # the usual shape
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(round(moment.timestamp() * 1000))


@functools.lru_cache(maxsize=64)
def _second_ms(second: str) -> int:
    """Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS` (UTC); every event
    read is stamped, and consecutive ones mostly share their second."""
    return int(datetime.fromisoformat(second + "+00:00").timestamp()) * 1000


def parse_source(raw: object) -> Source | None:
    """`null`, or an object with the four string fields of contract.md §2."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidEvent("source must be null or an object")
    missing = [name for name in _SOURCE_FIELDS if not isinstance(raw.get(name), str)]
    if missing:
        raise InvalidEvent(f"source needs string fields: {', '.join(missing)}")
    extra = sorted(set(raw) - set(_SOURCE_FIELDS))
    if extra:
        raise InvalidEvent(f"source has unknown fields: {', '.join(extra)}")
    try:
        agent_type = AgentType(raw["agent_type"])
    except ValueError:
        allowed = ", ".join(t.value for t in AgentType)
        raise InvalidEvent(f"source.agent_type must be one of: {allowed}") from None
    return Source(raw["agent_id"], agent_type, raw["agent_name"], raw["team_name"])


def parse_kind(raw: object) -> tuple[Category, str]:
    """The `event` object: a known category and a lowercase action."""
    if not isinstance(raw, dict):
        raise InvalidEvent("event must be an object with category and action")
    try:
        category = Category(str(raw.get("category")))
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise InvalidEvent(f"event.category must be one of: {allowed}") from None
    action = raw.get("action")
    if not isinstance(action, str) or not ACTION_RE.fullmatch(action):
        raise InvalidEvent("event.action must match [a-z][a-z0-9_]* (at most 64)")
    return category, action


def parse_new_event(raw: object, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> NewEvent:
    """A submitted `{"event":…, "source":…, "data":…}` object, checked in full."""
    if not isinstance(raw, dict):
        raise InvalidEvent("an event must be a JSON object")
    extra = sorted(set(raw) - {"event", "source", "data"})
    if extra:
        raise InvalidEvent(f"unknown event fields: {', '.join(extra)}")
    category, action = parse_kind(raw.get("event"))
    source = parse_source(raw.get("source"))
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise InvalidEvent("data must be a JSON object")
    event = NewEvent(category, action, source, dump_json(data))
    check_size(event, max_bytes)
    return event


def check_size(event: NewEvent, max_bytes: int) -> None:
    """Raise EventTooLarge when the stored envelope could exceed `max_bytes`."""
    size = _STORED_OVERHEAD + len(event.data_json.encode()) + len(event.action)
    size += len(event.category.value)
    if event.source is not None:
        size += _source_bytes(event.source)
    if size > max_bytes:
        raise EventTooLarge(
            f"event is {size} bytes serialized; the limit is {max_bytes}"
        )


def source_json(source: Source) -> dict[str, str]:
    return {
        "agent_id": source.agent_id,
        "agent_type": source.agent_type.value,
        "agent_name": source.agent_name,
        "team_name": source.team_name,
    }


def to_envelope(stored: StoredEvent) -> dict[str, Any]:
    """The envelope as a JSON-ready dict."""
    event = stored.event
    return {
        "id": str(stored.id),
        "run_id": stored.run_id,
        "timestamp": format_timestamp(stored.timestamp_ms),
        "sequence": stored.sequence,
        "source": None if event.source is None else source_json(event.source),
        "event": {"category": event.category.value, "action": event.action},
        "data": event.data,
    }


def envelope_json(stored: StoredEvent) -> str:
    """The envelope as one line of JSON, splicing the stored data text as is.

    Every live event is written out through here, so the parts that repeat from
    event to event (the source, the event object, the timestamp's second) are
    cached."""
    event = stored.event
    ms = stored.timestamp_ms
    return (
        f'{{"id":"{stored.id}","run_id":{stored.run_id},'
        f'"timestamp":"{_second_prefix(ms // 1000)}{ms % 1000:03d}Z",'
        f'"sequence":{stored.sequence},"source":{_source_text(event.source)},'
        f'"event":{_kind_text(event.category, event.action)},'
        f'"data":{event.data_json}}}'
    )


@functools.lru_cache(maxsize=4096)
def _source_text(source: Source | None) -> str:
    return "null" if source is None else dump_json(source_json(source))


@functools.lru_cache(maxsize=4096)
def _source_bytes(source: Source) -> int:
    return len(_source_text(source).encode())


@functools.lru_cache(maxsize=1024)
def _kind_text(category: Category, action: str) -> str:
    return dump_json({"category": category.value, "action": action})


@functools.lru_cache(maxsize=64)
def _second_prefix(second: int) -> str:
    """format_timestamp's text before the milliseconds: `YYYY-MM-DDTHH:MM:SS.`"""
    return format_timestamp(second * 1000)[:-4]
