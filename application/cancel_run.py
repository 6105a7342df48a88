"""CancelRun: stop a run; appends `lifecycle.cancelled`."""

from __future__ import annotations

from collections.abc import Callable

from runstream.application.ending import Ended, end_run
from runstream.application.visibility import visible_run
from runstream.domain.model import Idempotency, RunId, RunStatus
from runstream.domain.ports import EventLog, RunRepository


class CancelRun:
    """Cancel a run. `on_cancel` tells whatever executes the run to stop."""

    def __init__(
        self,
        runs: RunRepository,
        events: EventLog,
        on_cancel: Callable[[RunId, Idempotency | None], bool] | None = None,
    ) -> None:
        self._runs = runs
        self._events = events
        self._on_cancel = on_cancel

    def execute(
        self,
        run_id: RunId,
        tenant: str | None = None,
        idempotency: Idempotency | None = None,
    ) -> Ended:
        """The cancelled run. RunNotActive if it had already ended, unless this
        repeats the `idempotency` key that ended it (then `replayed`).

        A run executed in this process is asked to stop and ends itself with
        `lifecycle.cancelled` (carrying the key) once its pending events are
        written; any other run is ended here.
        """
        run = visible_run(self._runs, run_id, tenant)
        here = self._on_cancel
        if (
            not run.status.is_terminal
            and here is not None
            and here(run_id, idempotency)
        ):
            return Ended(self._runs.get(run_id))
        return end_run(
            self._runs, self._events, run, RunStatus.CANCELLED, idempotency=idempotency
        )
