"""Events and runs: the value types of the service (docs/contract.md §1-§2)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeAlias

from runstream.domain.errors import InvalidRequest, InvalidTransition
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
    return _ENCODE(value)


# What json.dumps(value, separators=(",", ":"), ensure_ascii=False) builds on
# every call, built once (the encoder keeps no state between calls).
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


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


MAX_IDEMPOTENCY_KEY = 128


@dataclass(frozen=True, slots=True)
class Idempotency:
    """A request's `Idempotency-Key` and a digest of its body (contract.md §4).

    A log remembers the key of every batch it stored with one: the same key with
    the same digest is a retry (nothing is stored again), with another digest a
    misuse (IdempotencyKeyReused).
    """

    key: str
    digest: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.key) <= MAX_IDEMPOTENCY_KEY or not all(
            " " <= c <= "~" for c in self.key
        ):
            raise InvalidRequest(
                f"an Idempotency-Key is 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII "
                "characters"
            )
        if not 1 <= len(self.digest) <= MAX_IDEMPOTENCY_KEY or not all(
            " " < c <= "~" for c in self.digest
        ):
            raise InvalidRequest("an idempotency digest is 1 to 128 visible chars")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event in a run's log, with the position and time the store gave it.

    `idempotency` is set on the first event of a batch appended with a key, so
    the key travels wherever the event is copied (archive, failover, failback).
    """

    id: EventId
    run_id: RunId
    sequence: int
    timestamp_ms: int
    event: NewEvent
    idempotency: Idempotency | None = None

    @property
    def category(self) -> Category:
        return self.event.category

    @property
    def action(self) -> str:
        return self.event.action

    @property
    def is_terminal(self) -> bool:
        return self.event.is_terminal


class Appended(list[StoredEvent]):
    """What `EventLog.append` returns: the batch's stored events, in order.

    `replayed` is True when the batch's idempotency key was already stored: the
    events are the ones stored the first time, and nothing was stored now.
    """

    __slots__ = ("replayed",)

    def __init__(
        self, events: Iterable[StoredEvent] = (), *, replayed: bool = False
    ) -> None:
        super().__init__(events)
        self.replayed = replayed


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
