"""RunTally: counts what a run emits, for the statistics stored when it ends."""

from __future__ import annotations

import json
import threading

from runstream.domain.errors import InvalidEvent, RunNotActive
from runstream.domain.model import Category, JsonObject, NewEvent
from runstream.domain.ports import EventSink


def stream_tokens(event: NewEvent) -> int:
    """Tokens carried by an `llm.stream` event: its `data.tokens`, else 1."""
    tokens = json.loads(event.data_json).get("tokens")
    if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0:
        return tokens
    return 1


class RunTally:
    """An EventSink in front of another that counts what passes through.

    The statistics describe the whole log of a run executed in-process: its
    `lifecycle.started` (already stored when the tally starts), every emitted
    event, and the terminal event that carries them. Executors may not emit
    `lifecycle.started` or a terminal event: the service writes those.
    """

    def __init__(self, sink: EventSink) -> None:
        self._sink = sink
        self._lock = threading.Lock()
        self._events = {category.value: 0 for category in Category}
        self._events[Category.LIFECYCLE.value] = 1
        self._tokens = 0
        self._agents: set[str] = set()
        self._closed = False

    def emit(self, event: NewEvent) -> None:
        """Count and pass on `event`. InvalidEvent for the service's own
        lifecycle events; RunNotActive once the executor has returned."""
        if event.is_start or event.is_terminal:
            raise InvalidEvent(f"lifecycle.{event.action} is written by the service")
        if self._closed:
            raise RunNotActive("the run's executor has returned; no more events")
        tokens = 0
        if event.category is Category.LLM and event.action == "stream":
            tokens = stream_tokens(event)
        with self._lock:
            self._events[event.category.value] += 1
            self._tokens += tokens
            if event.source is not None:
                self._agents.add(event.source.agent_id)
        self._sink.emit(event)

    def close(self) -> None:
        """Refuse further events (an executor's stray thread, say)."""
        self._closed = True

    def statistics(self, duration_ms: int) -> JsonObject:
        """Counts of the run's log once its terminal event is added."""
        with self._lock:
            events: JsonObject = dict(self._events)
            events[Category.LIFECYCLE.value] = self._events[Category.LIFECYCLE] + 1
            total = sum(self._events.values()) + 1
            return {
                "events": events,
                "events_total": total,
                "tokens_streamed": self._tokens,
                "agents": len(self._agents),
                "duration_ms": duration_ms,
            }
