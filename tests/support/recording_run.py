"""A run that records what the handler emits, in place of a service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runstream.entrypoints.producer.events import source_json


@dataclass(frozen=True)
class Emitted:
    category: str
    action: str
    data: dict[str, Any]
    source: dict[str, str] | None

    @property
    def kind(self) -> str:
        return f"{self.category}.{self.action}"

    @property
    def agent(self) -> str | None:
        return self.source["agent_id"] if self.source else None


class RecordingRun:
    def __init__(self) -> None:
        self.events: list[Emitted] = []

    def emit(self, category, action, data=None, source=None) -> None:
        self.events.append(
            Emitted(category, action, dict(data or {}), source_json(source))
        )

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def text_of(self, agent_id: str) -> str:
        return "".join(
            e.data["content"] for e in self.events
            if e.kind == "llm.stream" and e.agent == agent_id
        )  # fmt: skip
