"""Run: one run's side of a producer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from runstream.entrypoints.producer.events import Source

if TYPE_CHECKING:
    from runstream.entrypoints.producer.client import Producer


class Run:
    """One run's side of the producer: emit, then finish or cancel."""

    def __init__(self, producer: Producer, run_id: int) -> None:
        self.producer = producer
        self.id = run_id

    def emit(
        self,
        category: str,
        action: str,
        data: Mapping[str, Any] | None = None,
        source: Source = None,
    ) -> None:
        self.producer.emit(self.id, category, action, data, source)

    def token(self, content: str, source: Source) -> None:
        """One `llm.stream` chunk of the agent's text."""
        self.emit("llm", "stream", {"content": content}, source)

    def finish(
        self,
        status: Literal["completed", "failed"] = "completed",
        *,
        result: Any = None,
        statistics: Mapping[str, Any] | None = None,
        error: str | None = None,
        timeout: float = 60.0,
    ) -> Any:
        """End the run after every event emitted before; the service's answer."""
        body: dict[str, Any] = {"status": status}
        if result is not None:
            body["result"] = result
        if statistics is not None:
            body["statistics"] = dict(statistics)
        if error is not None:
            body["error"] = error
        return self.producer.call(self.id, f"/runs/{self.id}/finish", body, timeout)

    def cancel(self, timeout: float = 60.0) -> Any:
        return self.producer.call(self.id, f"/runs/{self.id}/cancel", {}, timeout)
