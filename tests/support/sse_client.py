"""A small SSE client over http.client: frames as they arrive, reconnects."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Frame:
    id: str | None = None
    event: str | None = None
    data: str | None = None
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data or "null")


def parse_frame(raw: bytes) -> Frame:
    frame = Frame()
    for line in raw.decode().split("\n"):
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "":
            frame.comments.append(value)
        elif name in ("id", "event", "data"):
            setattr(frame, name, value)
    return frame


class SseStream:
    """One GET of a stream; `frames()` yields until the server ends it."""

    def __init__(
        self, base_url: str, path: str, headers: dict[str, str] | None = None,
        timeout: float = 15.0,
    ) -> None:  # fmt: skip
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
        self.connection.request("GET", path, headers=headers or {})
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers
        self.ended_cleanly = False

    def body_json(self) -> Any:
        return json.loads(self.response.read())

    def frames(self) -> Iterator[Frame]:
        rest = b""
        while True:
            chunk = self.response.read1(65536)
            if not chunk:
                self.ended_cleanly = True
                return
            parts = (rest + chunk).split(b"\n\n")
            rest = parts.pop()
            for raw in parts:
                yield parse_frame(raw)

    def events(self) -> Iterator[Frame]:
        """Frames that are not comments (heartbeats)."""
        return (frame for frame in self.frames() if frame.event is not None)

    def close(self) -> None:
        self.connection.close()


def follow(base_url: str, path: str, last_id: str | None = None, headers=None):  # type: ignore[no-untyped-def]
    """Like EventSource: read to `close`, reconnecting with Last-Event-ID when the
    server ends a stream early. Returns (event frames, reconnections)."""
    seen: list[Frame] = []
    reconnects = -1
    while True:
        reconnects += 1
        wanted = dict(headers or {})
        if last_id is not None:
            wanted["Last-Event-ID"] = last_id
        stream = SseStream(base_url, path, wanted, timeout=60)
        assert stream.status == 200, stream.response.read()
        try:
            for frame in stream.events():
                if frame.event == "close":
                    return seen, reconnects
                seen.append(frame)
                last_id = frame.id or last_id
        finally:
            stream.close()
        assert reconnects < 50, "too many reconnections"
