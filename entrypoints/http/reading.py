"""Reading part of a run over HTTP (docs/contract.md §4): the query parameters
of history and stream, their OpenAPI description, and the frames of a coalesced
replay."""

from __future__ import annotations

from typing import Any

from flask import request

from runstream.application.coalescing import COALESCIBLE
from runstream.application.live.hub import FanOutHub
from runstream.application.run_part import RunPart
from runstream.domain.model import StoredEvent
from runstream.entrypoints.live.frames import event_frame


def run_part() -> RunPart:
    """`agent_id=`, `category=` (repeatable) and `coalesce=llm.stream`."""
    args = request.args
    return RunPart.parse(
        args.getlist("agent_id"), args.getlist("category"), args.getlist("coalesce")
    )


def _repeatable(name: str, item: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "explode": True, "description": description,
            "schema": {"type": "array", "items": item}}  # fmt: skip


PART_PARAMETERS = [
    _repeatable("agent_id", {"type": "string", "minLength": 1},
                "only these agents' events (and the terminal event)"),
    _repeatable("category", {"type": "string",
                             "enum": ["lifecycle", "llm", "dispatch", "system"]},
                "only these categories (and the terminal event)"),
    {"name": "coalesce", "in": "query", "schema": {"type": "string",
                                                   "enum": [COALESCIBLE]},
     "description": "replay adjacent chunks of one agent as one event"},
]  # fmt: skip


class CoalescedFrames:
    """The hub as a stream with a coalesced replay uses it: a merged event has
    the id of its last chunk, whose frame the hub may cache, so it is encoded
    anew. Everything else is the hub's."""

    def __init__(self, hub: FanOutHub) -> None:
        self._hub = hub

    def frame(self, event: StoredEvent) -> bytes:
        if '"coalesced"' in event.event.data_json:
            return event_frame(event)
        return self._hub.frame(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hub, name)


def hub_for(hub: FanOutHub, part: RunPart) -> FanOutHub:
    """The hub a stream of `part` frames its events with."""
    if not part.coalesce:
        return hub
    return CoalescedFrames(hub)  # type: ignore[return-value]


_INT = {"type": "integer"}
_MS = {"type": "integer", "nullable": True, "description": "Unix time, ms"}
_AGENT = {"type": "object", "properties": {
    "agent_id": {"type": "string"}, "agent_type": {"type": "string"},
    "agent_name": {"type": "string"}, "team_name": {"type": "string"},
    "first_event_ms": _MS, "last_event_ms": _MS,
    "time_to_first_token_ms": {**_INT, "nullable": True},
    "chunks": _INT, "tokens": _INT, "characters": _INT,
    "dispatches_sent": _INT, "dispatches_received": _INT,
    "status": {"type": "string"}}}  # fmt: skip
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["run_id", "status", "events", "counts", "agents"],
    "properties": {
        "run_id": _INT, "status": {"$ref": "#/components/schemas/RunStatus"},
        "events": _INT, "last_sequence": _INT,
        "first_event_ms": _MS, "last_event_ms": _MS, "duration_ms": _INT,
        "events_per_second": {"type": "number", "nullable": True},
        "counts": {"type": "object", "additionalProperties": _INT,
                   "description": "events per category.action"},
        "agents": {"type": "array", "items": _AGENT},
    },
}  # fmt: skip
