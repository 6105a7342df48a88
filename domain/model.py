"""Events and runs: the value types of the service (docs/contract.md §1-§2)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeAlias

from runstream.domain.errors import InvalidTransition
from runstream.domain.ids import EventId

JsonValue: TypeAlias = (
    None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
)
JsonObject: TypeAlias = dict[str, JsonValue]
RunId: TypeAlias = int


class Category(StrEnum):
    LIFECYCLE = "lifecycle"
    LLM = "llm"
    DISPATCH = "dispatch"
    SYSTEM = "system"


class AgentType(StrEnum):
    GLOBAL_SUPERVISOR = "global_supervisor"
    TEAM_SUPERVISOR = "team_supervisor"
    WORKER = "worker"


TERMINAL_ACTIONS = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class Source:
    agent_id: str
    agent_type: AgentType
    agent_name: str
    team_name: str


def dump_json(value: object) -> str:
    """The one canonical JSON text used for storage and the wire."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event as submitted: the service assigns id, sequence and timestamp.

    `data_json` is the JSON text of the data object, so stores and the wire never
    re-serialize it and nobody can mutate an event after it was built.
    """

    category: Category
    action: str
    source: Source | None
    data_json: str = "{}"

    @classmethod
    def build(
        cls,
        category: Category,
        action: str,
        data: JsonObject | None = None,
        source: Source | None = None,
    ) -> NewEvent:
        return cls(category, action, source, dump_json(data or {}))

    @property
    def data(self) -> JsonObject:
        loaded: JsonObject = json.loads(self.data_json)
        return loaded

    @property
    def is_terminal(self) -> bool:
        return self.category is Category.LIFECYCLE and self.action in TERMINAL_ACTIONS

    @property
    def is_start(self) -> bool:
        return self.category is Category.LIFECYCLE and self.action == "started"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event in a run's log, with the position and time the store gave it."""

    id: EventId
    run_id: RunId
    sequence: int
    timestamp_ms: int
    event: NewEvent

    @property
    def category(self) -> Category:
        return self.event.category

    @property
    def action(self) -> str:
        return self.event.action

    @property
    def is_terminal(self) -> bool:
        return self.event.is_terminal


@dataclass(frozen=True, slots=True)
class LogInfo:
    """What a run's log keeps now: its oldest and newest events."""

    first_id: EventId
    first_sequence: int
    last_id: EventId
    last_sequence: int
    length: int
    closed: bool


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_STATUSES


_TERMINAL_STATUSES = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}
)
_ALLOWED = {
    RunStatus.PENDING: frozenset({RunStatus.RUNNING, *_TERMINAL_STATUSES}),
    RunStatus.RUNNING: _TERMINAL_STATUSES,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Run:
    """One execution of an agent team. `id` is 0 until the repository stores it."""

    task: str
    id: RunId = 0
    hierarchy_id: int | None = None
    executor: str = "external"
    params: JsonObject = field(default_factory=dict)
    tenant: str | None = None
    status: RunStatus = RunStatus.PENDING
    result: JsonValue = None
    error: str | None = None
    statistics: JsonObject | None = None
    topology_snapshot: JsonValue = None
    created_at: datetime = field(default_factory=utc_now)
    started_at: datetime | None = None
    completed_at: datetime | None = None

    def transition(self, status: RunStatus, at: datetime | None = None) -> Run:
        """The run in `status`; an illegal change raises InvalidTransition."""
        if status not in _ALLOWED.get(self.status, frozenset()):
            raise InvalidTransition(
                f"run {self.id} is {self.status.value}; cannot become {status.value}"
            )
        now = at or utc_now()
        if status is RunStatus.RUNNING:
            return replace(self, status=status, started_at=now)
        return replace(self, status=status, completed_at=now)

    def finished(
        self,
        status: RunStatus,
        *,
        result: JsonValue = None,
        error: str | None = None,
        statistics: JsonObject | None = None,
    ) -> Run:
        """The run ended in terminal `status` with its outcome."""
        ended = self.transition(status)
        return replace(ended, result=result, error=error, statistics=statistics)
