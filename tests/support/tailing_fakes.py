"""A scripted stand-in for the service's SSE endpoint, without sockets."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from runstream.entrypoints.tailing.client import Service


def frame(event_id: str, envelope: dict[str, object]) -> bytes:
    kind = envelope["event"]
    assert isinstance(kind, dict)
    name = f"{kind['category']}.{kind['action']}"
    return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(envelope)}\n\n".encode()


def envelope(
    category: str, action: str, data: dict[str, object] | None = None, agent: str = ""
) -> dict[str, object]:
    source = None
    if agent:
        source = {
            "agent_id": agent,
            "agent_type": "worker",
            "agent_name": agent.title(),
            "team_name": "research",
        }
    return {
        "id": "1-0",
        "run_id": 1,
        "source": source,
        "event": {"category": category, "action": action},
        "data": data or {},
    }


CLOSE = b'event: close\ndata: {"message":"Stream closed"}\n\n'


@dataclass
class Reply:
    """One answer: a status, and the body's chunks (an OSError drops the line)."""

    status: int = 200
    body: Iterable[bytes | OSError] = ()
    content_type: str = "text/event-stream"


class FakeResponse:
    def __init__(self, reply: Reply) -> None:
        self.status = reply.status
        self._type = reply.content_type
        lines: list[bytes | OSError] = []
        for chunk in reply.body:
            if isinstance(chunk, OSError):
                lines.append(chunk)
            else:
                lines.extend(chunk.splitlines(keepends=True))
        self._lines = lines

    def getheader(self, name: str, default: str = "") -> str:
        return self._type if name == "Content-Type" else default

    def readline(self) -> bytes:
        if not self._lines:
            return b""
        line = self._lines.pop(0)
        if isinstance(line, OSError):
            raise line
        return line

    def read(self) -> bytes:
        return b"".join(line for line in self._lines if isinstance(line, bytes))


@dataclass(frozen=True)
class FakeService(Service):
    """Answers each connection with the next scripted reply (refused when none)."""

    replies: list[Reply | OSError] = field(default_factory=list)
    sent: list[dict[str, str]] = field(default_factory=list)

    status: str = "running"

    def connect(self, timeout: float) -> FakeConnection:  # type: ignore[override]
        return FakeConnection(self)

    def request(self, method: str, path: str, body: object = None, timeout=10.0):
        return {"id": 1, "status": self.status}


class FakeConnection:
    def __init__(self, service: FakeService) -> None:
        self._service = service

    def request(self, method: str, path: str, body: object = None, headers=None):
        self._service.sent.append(dict(headers or {}))
        if not self._service.replies:
            raise ConnectionRefusedError("connection refused")
        reply = self._service.replies.pop(0)
        if isinstance(reply, OSError):
            raise reply
        self._reply = reply

    def getresponse(self) -> FakeResponse:
        return FakeResponse(self._reply)

    def close(self) -> None:
        pass
