"""AppendEvents: producers add events to a running run."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from runstream.application.visibility import visible_run
from runstream.domain.errors import InvalidEvent, InvalidRequest, RunNotActive
from runstream.domain.model import Appended, Idempotency, NewEvent, RunId
from runstream.domain.ports import EventLog, RunRepository

MAX_BATCH = 1000
# How long a run seen running is taken as still running without asking the
# repository again, and how many such runs are remembered.
RECHECK_SECONDS = 5.0
REMEMBERED_RUNS = 10_000


def recheck_seconds(log_ttl_seconds: float) -> float:
    """RECHECK_SECONDS, or a tenth of the time an ended run's log is kept when
    that is shorter: an append the memory lets through must find the log of an
    ended run still there (closed), not expired and open to a new start."""
    return min(RECHECK_SECONDS, log_ttl_seconds / 10)


class AppendEvents:
    """Append one event or a batch, whole or not at all.

    A producer appends to its run many times a second, so a run found running
    is remembered (with its tenant) for `recheck_seconds` instead of being read
    from the repository on every append. That is safe because a run only ever
    leaves `running` by a terminal event, which closes its log: an append the
    memory lets through to a run ended meanwhile is refused by the log itself
    (RunNotActive), as long as that log is kept longer than `recheck_seconds`
    (see `recheck_seconds()`). Its tenant never changes."""

    def __init__(
        self,
        runs: RunRepository,
        events: EventLog,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runs = runs
        self._events = events
        self._recheck = recheck_seconds
        self._clock = clock
        self._running: dict[RunId, tuple[str | None, float]] = {}

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
        self._check_running(run_id, tenant, idempotency)
        return self._events.append(run_id, events, idempotency)

    def _check_running(
        self, run_id: RunId, tenant: str | None, idempotency: Idempotency | None
    ) -> None:
        """RunNotFound / RunNotActive as the repository says, or at once when
        the run was seen running (for `tenant`) within `recheck_seconds`."""
        now = self._clock()
        seen = self._running.get(run_id)
        if (
            seen is not None
            and now - seen[1] < self._recheck
            and (tenant is None or seen[0] == tenant)
        ):
            return
        run = visible_run(self._runs, run_id, tenant)
        if run.status.is_terminal:
            self._running.pop(run_id, None)
            if idempotency is None:
                raise RunNotActive(f"run {run_id} has already {run.status.value}")
            return
        if len(self._running) >= REMEMBERED_RUNS:
            self._running.clear()
        self._running[run_id] = (run.tenant, now)
