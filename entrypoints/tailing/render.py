"""Writing a run's events for a person (text) or a program (`--json`)."""

from __future__ import annotations

import json
import zlib
from typing import Any, Protocol, TextIO

from runstream.entrypoints.tailing.describe import describe, label

_PALETTE = ("36", "33", "35", "32", "34", "96", "93", "95")
# kind of line -> (marker, colour)
_LINES = {
    "start": ("*", "1"),
    "done": ("*", "32"),
    "error": ("!", "31"),
    "dispatch": ("->", "2"),
    "other": ("#", "2"),
}


class Renderer(Protocol):
    def event(self, envelope: dict[str, Any], raw: str) -> None: ...
    def gap(self, data: dict[str, Any]) -> None: ...
    def notice(self, text: str) -> None: ...
    def finish(self) -> None: ...


class JsonRenderer:
    """Each envelope as received, one per line; notices go to `err`."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self._out, self._err = out, err

    def event(self, envelope: dict[str, Any], raw: str) -> None:
        self._out.write(raw + "\n")
        self._out.flush()

    def gap(self, data: dict[str, Any]) -> None:
        self.notice(f"gap: events are missing ({json.dumps(data)})")

    def notice(self, text: str) -> None:
        print(f"runstream tail: {text}", file=self._err, flush=True)

    def finish(self) -> None:
        self._out.flush()


class TextRenderer:
    """An agent's tokens joined on one line after its name; other events as
    short lines. When another agent speaks, the open line ends, and the first
    agent's next tokens start a new line with its name again."""

    def __init__(self, out: TextIO, err: TextIO, colour: bool) -> None:
        self._out, self._err, self._colour = out, err, colour
        self._open: str | None = None
        self._names: dict[str, str] = {}

    def event(self, envelope: dict[str, Any], raw: str) -> None:
        kind = envelope.get("event") or {}
        data = envelope.get("data") or {}
        source = envelope.get("source")
        if source:
            self._names.setdefault(str(source.get("agent_id")), label(source))
        if (kind.get("category"), kind.get("action")) == ("llm", "stream"):
            self._text(source, str(data.get("content", "")))
            return
        line = describe(envelope, self._names)
        if line is not None:
            self._line(*line)

    def gap(self, data: dict[str, Any]) -> None:
        first, last = data.get("first_available_id"), data.get("last_event_id")
        lost = f"events after {last}" if last else "the run's first events"
        self._line("error", f"{lost} are no longer kept; resuming at {first}")

    def notice(self, text: str) -> None:
        self._end_line()
        print(self._paint("2", f"runstream tail: {text}"), file=self._err, flush=True)

    def finish(self) -> None:
        self._end_line()

    def _text(self, source: dict[str, Any] | None, content: str) -> None:
        agent = (source or {}).get("agent_id", "")
        name = self._paint(self._agent_colour(agent), label(source) + ":")
        if self._open != agent:
            self._end_line()
            self._out.write(name + " ")
            self._open = agent
        self._out.write(content.replace("\n", "\n" + name + " "))
        self._out.flush()

    def _line(self, kind: str, text: str) -> None:
        marker, colour = _LINES.get(kind, ("#", "0"))
        self._end_line()
        self._out.write(self._paint(colour, f"{marker} {text}") + "\n")
        self._out.flush()

    def _end_line(self) -> None:
        if self._open is not None:
            self._out.write("\n")
            self._open = None

    def _agent_colour(self, agent: str) -> str:
        return _PALETTE[zlib.crc32(agent.encode()) % len(_PALETTE)]

    def _paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self._colour else text
