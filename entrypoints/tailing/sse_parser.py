"""An incremental parser of `text/event-stream` lines (the WHATWG SSE rules)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    """One dispatched SSE event: `event` defaults to "message" as in browsers."""

    event: str
    data: str
    id: str | None


class SseParser:
    """Feed it lines (without or with their line ending); it returns a Frame
    whenever a blank line ends an event. Comments (`: heartbeat`) are dropped."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None
        self._event = ""
        self._data: list[str] = []
        self._id_in_frame: str | None = None

    def feed(self, line: str) -> Frame | None:
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._field(name, value)
        return None

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
            self._id_in_frame = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)

    def _dispatch(self) -> Frame | None:
        data, event, frame_id = self._data, self._event, self._id_in_frame
        self._event, self._data, self._id_in_frame = "", [], None
        if not data:
            return None
        return Frame(event or "message", "\n".join(data), frame_id)
