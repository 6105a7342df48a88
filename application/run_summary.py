"""A run's figures, folded event by event (`GET /runs/{id}/summary`).

Per agent: first and last event time, time to first token, chunks, tokens and
characters streamed, dispatches sent and received, status. Per run: counts per
category.action, duration and events per second. `RunTally` is a fold, so the
use case keeps it per run and reads only the events after the last one it saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runstream.domain.model import Category, JsonObject, StoredEvent

_AGENT_STATUS = {"started": "streaming", "completed": "completed", "failed": "failed"}


@dataclass(slots=True)
class AgentTally:
    agent_type: str
    agent_name: str
    team_name: str
    first_ms: int
    last_ms: int
    first_token_ms: int | None = None
    chunks: int = 0
    tokens: int = 0
    characters: int = 0
    dispatches_sent: int = 0
    status: str = "idle"

    def to_json(self, agent_id: str, received: int) -> JsonObject:
        first_token = self.first_token_ms
        return {
            "agent_id": agent_id,
            "agent_type": self.agent_type,
            "agent_name": self.agent_name,
            "team_name": self.team_name,
            "first_event_ms": self.first_ms,
            "last_event_ms": self.last_ms,
            "time_to_first_token_ms": (
                None if first_token is None else first_token - self.first_ms
            ),
            "chunks": self.chunks,
            "tokens": self.tokens,
            "characters": self.characters,
            "dispatches_sent": self.dispatches_sent,
            "dispatches_received": received,
            "status": self.status,
        }


@dataclass(slots=True)
class RunTally:
    """The summary of the events folded in so far, in log order."""

    events: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    last_sequence: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    agents: dict[str, AgentTally] = field(default_factory=dict)
    # Dispatches by the agent they went to, which may not have spoken yet.
    received: dict[str, int] = field(default_factory=dict)

    def add(self, event: StoredEvent) -> None:
        at = event.timestamp_ms
        self.events += 1
        self.first_ms = at if self.first_ms is None else self.first_ms
        self.last_ms = at
        self.last_sequence = event.sequence
        kind = f"{event.category.value}.{event.action}"
        self.counts[kind] = self.counts.get(kind, 0) + 1
        agent = self._agent(event)
        if agent is not None:
            _fold_agent(agent, event)
        if event.category is Category.DISPATCH and event.action == "assigned":
            target = str(event.event.data.get("to"))
            self.received[target] = self.received.get(target, 0) + 1

    def _agent(self, event: StoredEvent) -> AgentTally | None:
        source = event.event.source
        if source is None:
            return None
        agent = self.agents.get(source.agent_id)
        if agent is None:
            agent = AgentTally(
                source.agent_type.value,
                source.agent_name,
                source.team_name,
                event.timestamp_ms,
                event.timestamp_ms,
            )
            self.agents[source.agent_id] = agent
        return agent

    def to_json(self) -> JsonObject:
        duration = 0 if self.first_ms is None else (self.last_ms or 0) - self.first_ms
        rate = self.events / (duration / 1000) if duration > 0 else None
        return {
            "events": self.events,
            "last_sequence": self.last_sequence,
            "first_event_ms": self.first_ms,
            "last_event_ms": self.last_ms,
            "duration_ms": duration,
            "events_per_second": None if rate is None else round(rate, 3),
            "counts": dict(sorted(self.counts.items())),
            "agents": [
                a.to_json(agent_id, self.received.get(agent_id, 0))
                for agent_id, a in self.agents.items()
            ],
        }


def _fold_agent(agent: AgentTally, event: StoredEvent) -> None:
    agent.last_ms = event.timestamp_ms
    if event.category is Category.DISPATCH and event.action == "assigned":
        agent.dispatches_sent += 1
    if event.category is not Category.LLM:
        return
    if event.action == "stream":
        data = event.event.data
        content = data.get("content")
        tokens = data.get("tokens")
        agent.chunks += 1
        agent.tokens += tokens if type(tokens) is int and tokens >= 0 else 1
        agent.characters += len(content) if isinstance(content, str) else 0
        if agent.first_token_ms is None:
            agent.first_token_ms = event.timestamp_ms
        agent.status = "streaming"
    elif event.action in _AGENT_STATUS:
        agent.status = _AGENT_STATUS[event.action]
