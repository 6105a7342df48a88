"""AppendEvents: producers add events to a running run."""

from __future__ import annotations

from collections.abc import Sequence

from runstream.application.visibility import visible_run
from runstream.domain.errors import InvalidEvent, InvalidRequest, RunNotActive
from runstream.domain.model import Appended, Idempotency, NewEvent, RunId
from runstream.domain.ports import EventLog, RunRepository

MAX_BATCH = 1000


class AppendEvents:
    """Append one event or a batch, whole or not at all."""

    def __init__(self, runs: RunRepository, events: EventLog) -> None:
        self._runs = runs
        self._events = events

    def execute(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        tenant: str | None = None,
        idempotency: Idempotency | None = None,
    ) -> Appended:
        """The stored events. `lifecycle.started` and terminal events are the
        service's own (start, finish, cancel) and are refused here. A repeated
        `idempotency` key answers with the events it stored (`replayed`), even
        once the run has ended."""
        if not 1 <= len(events) <= MAX_BATCH:
            raise InvalidRequest(f"a batch holds 1 to {MAX_BATCH} events")
        for event in events:
            if event.is_start or event.is_terminal:
                raise InvalidEvent(
                    f"lifecycle.{event.action} is written by the service; "
                    "use POST /runs/{run_id}/finish or /cancel to end a run"
                )
        run = visible_run(self._runs, run_id, tenant)
        if run.status.is_terminal and idempotency is None:
            raise RunNotActive(f"run {run_id} has already {run.status.value}")
        return self._events.append(run_id, events, idempotency)
