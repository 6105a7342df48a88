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


@functools.lru_cache(maxsize=1024)
def _kind(category: str, action: str) -> tuple[Category, str]:
    return parse_kind({"category": category, "action": action})


@functools.lru_cache(maxsize=4096)
def _source(agent_id: str, agent_type: str, name: str, team: str) -> tuple[Source, int]:
    fields = (agent_id, agent_type, name, team)
    source = parse_source(dict(zip(_SOURCE_FIELDS, fields, strict=True)))
    assert source is not None
    return source, _source_bytes(source)


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


_EVENT_FIELDS = frozenset(("event", "source", "data"))
_KIND_FIELDS = frozenset(("category", "action"))
_SOURCE_KEYS = frozenset(_SOURCE_FIELDS)


def parse_new_event(raw: object, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> NewEvent:
    """A submitted `{"event":…, "source":…, "data":…}` object, checked in full.

    Producers repeat the same few kinds and sources event after event: those
    that are plain strings are checked once and remembered (`_kind`,
    `_source`, with the source's serialized size); anything else takes the
    full checks, which say what is wrong."""
    if not isinstance(raw, dict):
        raise InvalidEvent("an event must be a JSON object")
    if not raw.keys() <= _EVENT_FIELDS:
        extra = sorted(set(raw) - _EVENT_FIELDS)
        raise InvalidEvent(f"unknown event fields: {', '.join(extra)}")
    kind = raw.get("event")
    if (
        type(kind) is dict
        and kind.keys() <= _KIND_FIELDS
        and type(category_text := kind.get("category")) is str
        and type(action_text := kind.get("action")) is str
    ):
        category, action = _kind(category_text, action_text)
    else:
        category, action = parse_kind(kind)
    source, source_bytes = _given_source(raw.get("source"))
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise InvalidEvent("data must be a JSON object")
    event = NewEvent(category, action, source, dump_json(data))
    size = _STORED_OVERHEAD + len(action) + len(category) + source_bytes
    # UTF-8 takes at most 4 bytes a character: most data is far below the limit.
    if size + 4 * len(event.data_json) > max_bytes:
        check_size(event, max_bytes)
    return event


def _given_source(given: object) -> tuple[Source | None, int]:
    """The event's source and its serialized size (4 for `null`)."""
    if given is None:
        return None, 4
    if type(given) is dict and given.keys() == _SOURCE_KEYS:
        agent_id, agent_type = given["agent_id"], given["agent_type"]
        name, team = given["agent_name"], given["team_name"]
        if (
            type(agent_id) is str
            and type(agent_type) is str
            and type(name) is str
            and type(team) is str
        ):
            return _source(agent_id, agent_type, name, team)
    source = parse_source(given)
    return source, 4 if source is None else _source_bytes(source)


def check_size(event: NewEvent, max_bytes: int) -> None:
    """Raise EventTooLarge when the stored envelope could exceed `max_bytes`."""
    size = _STORED_OVERHEAD + len(event.action) + len(event.category)
    if event.source is not None:
        size += _source_bytes(event.source)
    # UTF-8 takes at most 4 bytes a character: most data is far below the limit.
    if size + 4 * len(event.data_json) <= max_bytes:
        return
    size += len(event.data_json.encode())
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
