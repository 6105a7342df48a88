"""The ports: what the application needs from storage, stated as contracts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import (
    Appended,
    Category,
    Idempotency,
    JsonObject,
    JsonValue,
    LogInfo,
    NewEvent,
    Run,
    RunId,
    RunStatus,
    StoredEvent,
)


class EventLog(Protocol):
    """An append-only, totally ordered log of events per run.

    Ordering: within a run, ids and sequences increase strictly in log order;
    sequences start at 1 and have no gaps or repeats, even with concurrent writers
    in several processes. A terminal event (`lifecycle.completed|failed|cancelled`)
    closes the log: later appends raise RunNotActive. The log knows nothing of run
    records: a run it never saw simply has no events. Every backend failure is
    raised as StorageUnavailable; nothing else escapes an adapter.
    """

    def append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None = None,
    ) -> Appended:
        """Store `events` at the end of the log, whole or not at all.

        Assigns ids, sequences and timestamps (the store's clock, milliseconds);
        returns the stored events in order. Raises RunNotActive when the log is
        closed or the batch holds an event after a terminal one.

        With `idempotency`, the key is remembered with the batch for as long as
        the run's events are kept (its first event carries it). A key the log
        already holds with the same digest stores nothing and returns the events
        stored the first time (same ids and sequences) with `replayed` set, even
        once the log is closed; with another digest it raises
        IdempotencyKeyReused.
        """
        ...

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        """Copy events that already have ids and sequences (tiering, failback).

        Idempotent: an event whose id the log already has is skipped. The others
        must continue the log (id above its last, sequence = last + 1), else
        InvalidRequest. Idempotency keys travel with the events: a copied key is
        recognised by later appends. Returns how many were new.
        """
        ...

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        """At most `limit` kept events with start <= id <= end, in log order."""
        ...

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        """Block until some run has events after its cursor, or `timeout` seconds.

        Returns only the runs with new events (each at most `limit`, in order);
        an empty dict on timeout. One call can watch many runs, so a single reader
        per process can serve every subscriber.
        """
        ...

    def finish(self, run_id: RunId) -> None:
        """Mark the run finished: its expiry (the configured TTL) starts now."""
        ...

    def info(self, run_id: RunId) -> LogInfo | None:
        """The oldest and newest kept events, or None when nothing is kept.

        None means no events yet, or all expired: the run record tells which
        (a run that has started always has its `lifecycle.started` event).
        """
        ...


@runtime_checkable
class SelectiveEventLog(Protocol):
    """An EventLog that reads part of a run where the events are (an SQL WHERE),
    instead of handing every event over to be dropped by the caller.

    Like `read`, it answers from what the log still holds: a log that trims
    its oldest events (Redis's hot window) may lose some while they are read,
    so a reader that must tell a gap checks `info` after the read.
    """

    def read_selected(
        self,
        run_id: RunId,
        start: EventId,
        end: EventId,
        limit: int,
        agent_ids: frozenset[str],
        categories: frozenset[Category],
    ) -> list[StoredEvent]:
        """What `read(run_id, start, end, ...)` holds, keeping only events with a
        source whose agent is in `agent_ids` and a category in `categories`
        (an empty set keeps every value), and terminal events whatever they
        are: at most `limit` of them, in log order."""
        ...


class RunRepository(Protocol):
    """Run records. Ids are positive integers assigned on `add`, increasing.

    `get` and `update` raise RunNotFound for an unknown id; backend failures are
    raised as StorageUnavailable.
    """

    def add(self, run: Run) -> Run:
        """Store a new run and return it with its id."""
        ...

    def get(self, run_id: RunId) -> Run:
        """The stored run."""
        ...

    def update(self, run: Run, expected: RunStatus) -> Run:
        """Replace the run if its stored status is still `expected` (compare-and-set).

        Raises InvalidTransition when another writer changed the status first, so
        two racing finishers can never both end a run.
        """
        ...

    def list(
        self,
        *,
        status: RunStatus | None = None,
        tenant: str | None = None,
        before: RunId | None = None,
        limit: int = 50,
    ) -> Sequence[Run]:
        """The newest runs first, optionally filtered, with ids below `before`."""
        ...


class EventSink(Protocol):
    """Where a run's producer puts its events: the service stores them later.

    `emit` returns at once, without waiting on storage; events of one sink are
    stored in the order they were emitted. The service assigns ids, sequences and
    timestamps, and writes `lifecycle.started` and the terminal event itself.
    """

    def emit(self, event: NewEvent) -> None:
        """Queue `event` for the run's log."""
        ...


class Cancellation(Protocol):
    """A cancel request an executor watches (a `threading.Event` fits)."""

    def is_set(self) -> bool:
        """True once the run was asked to stop."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds, waking early (True) on cancel."""
        ...


class Executor(Protocol):
    """Plays runs of one kind (e.g. `simulated`) inside the service.

    `prepare` runs before the run exists, so bad params never create a run;
    `run` is called once, on a background thread of its own.
    """

    def prepare(self, params: JsonObject) -> JsonValue:
        """Check `params` (InvalidRequest naming the bad one) and return the
        run's topology, the agents tree stored as its `topology_snapshot`."""
        ...

    def run(self, run: Run, sink: EventSink, cancel: Cancellation) -> JsonValue:
        """Emit the run's events into `sink` and return its result.

        Returns soon after `cancel` is set (the service then ends the run as
        cancelled). Any exception fails the run with the exception's message.
        """
        ...
