"""Server-Sent Events frames (contract.md §4, Live stream), as bytes on the wire."""

from __future__ import annotations

from runstream.domain.envelope import envelope_json, format_timestamp
from runstream.domain.ids import EventId
from runstream.domain.model import StoredEvent, dump_json

CLOSE_FRAME = b'event: close\ndata: {"message":"Stream closed"}\n\n'


def _one_line(text: str) -> str:
    # Raw line breaks can only be whitespace in valid JSON, so they can go.
    if "\n" in text or "\r" in text:
        return text.replace("\r", " ").replace("\n", " ")
    return text


def event_frame(stored: StoredEvent) -> bytes:
    """`id:`, `event: <category>.<action>`, `data: <envelope>`, blank line."""
    event = stored.event
    return (
        f"id: {stored.id}\n"
        f"event: {event.category.value}.{event.action}\n"
        f"data: {_one_line(envelope_json(stored))}\n\n"
    ).encode()


def gap_frame(last_event_id: EventId | None, first_available_id: EventId) -> bytes:
    data = {
        "last_event_id": None if last_event_id is None else str(last_event_id),
        "first_available_id": str(first_available_id),
    }
    return f"event: gap\ndata: {dump_json(data)}\n\n".encode()


def heartbeat_frame(now_ms: int) -> bytes:
    return f": heartbeat {format_timestamp(now_ms)}\n\n".encode()
