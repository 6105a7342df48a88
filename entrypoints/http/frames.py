"""Server-Sent Events frames (CONTRACT §4, Live stream), as bytes on the wire."""

from __future__ import annotations

import functools

from domain.envelope import format_timestamp, source_json
from domain.ids import EventId
from domain.model import Category, Source, StoredEvent, dump_json

CLOSE_FRAME = b'event: close\ndata: {"message":"Stream closed"}\n\n'


def _one_line(text: str) -> str:
    # Raw line breaks can only be whitespace in valid JSON, so they can go.
    if "\n" in text or "\r" in text:
        return text.replace("\r", " ").replace("\n", " ")
    return text


# An event is encoded once per run, but its envelope's parts other than the id,
# sequence and data repeat from event to event: they are cached.
@functools.lru_cache(maxsize=4096)
def _source(source: Source | None) -> str:
    return "null" if source is None else dump_json(source_json(source))


@functools.lru_cache(maxsize=1024)
def _kind(category: Category, action: str) -> tuple[str, str]:
    """The `event:` name and the envelope's `event` object."""
    name = f"{category.value}.{action}"
    return name, dump_json({"category": category.value, "action": action})


@functools.lru_cache(maxsize=64)
def _second(second: int) -> str:
    """format_timestamp's text before the milliseconds: `YYYY-MM-DDTHH:MM:SS.`"""
    return format_timestamp(second * 1000)[:-4]


def event_frame(stored: StoredEvent) -> bytes:
    """`id:`, `event: <category>.<action>`, `data: <envelope>`, blank line; the
    envelope is envelope_json's, written here from cached parts."""
    event = stored.event
    name, kind = _kind(event.category, event.action)
    event_id, ms = str(stored.id), stored.timestamp_ms
    envelope = (
        f'{{"id":"{event_id}","run_id":{stored.run_id},'
        f'"timestamp":"{_second(ms // 1000)}{ms % 1000:03d}Z",'
        f'"sequence":{stored.sequence},"source":{_source(event.source)},'
        f'"event":{kind},"data":{event.data_json}}}'
    )
    return f"id: {event_id}\nevent: {name}\ndata: {_one_line(envelope)}\n\n".encode()


def gap_frame(last_event_id: EventId | None, first_available_id: EventId) -> bytes:
    data = {
        "last_event_id": None if last_event_id is None else str(last_event_id),
        "first_available_id": str(first_available_id),
    }
    return f"event: gap\ndata: {dump_json(data)}\n\n".encode()


def heartbeat_frame(now_ms: int) -> bytes:
    return f": heartbeat {format_timestamp(now_ms)}\n\n".encode()
