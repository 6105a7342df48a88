"""FinishRun: an external producer ends its run as completed or failed."""

from __future__ import annotations

from runstream.application.ending import Ended, end_run
from runstream.application.visibility import visible_run
from runstream.domain.errors import InvalidRequest
from runstream.domain.model import (
    Idempotency,
    JsonObject,
    JsonValue,
    RunId,
    RunStatus,
)
from runstream.domain.ports import EventLog, RunRepository

FINISH_STATUSES = (RunStatus.COMPLETED, RunStatus.FAILED)


class FinishRun:
    """End a run with its outcome; appends the terminal event."""

    def __init__(self, runs: RunRepository, events: EventLog) -> None:
        self._runs = runs
        self._events = events

    def execute(
        self,
        run_id: RunId,
        status: RunStatus,
        *,
        result: JsonValue = None,
        error: str | None = None,
        statistics: JsonObject | None = None,
        tenant: str | None = None,
        idempotency: Idempotency | None = None,
    ) -> Ended:
        """The finished run. RunNotActive if it had already ended, unless this
        repeats the `idempotency` key that ended it (then `replayed`)."""
        if status not in FINISH_STATUSES:
            raise InvalidRequest("status must be completed or failed")
        run = visible_run(self._runs, run_id, tenant)
        return end_run(
            self._runs,
            self._events,
            run,
            status,
            result=result,
            error=error,
            statistics=statistics,
            idempotency=idempotency,
        )
