"""Execution: one run played in this process, from its executor to its end."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from runstream.application.backoff import Backoff
from runstream.application.ending import end_run
from runstream.application.event_writer import EventWriter
from runstream.application.run_tally import RunTally
from runstream.domain.errors import DomainError, RunNotActive, StorageUnavailable
from runstream.domain.model import Idempotency, JsonValue, Run, RunStatus, utc_now
from runstream.domain.ports import EventLog, Executor, RunRepository

logger = logging.getLogger(__name__)
INTERRUPTED = "interrupted: the service shut down while the run was executing"


@dataclass(frozen=True)
class Outcome:
    status: RunStatus
    result: JsonValue = None
    error: str | None = None


class Execution:
    """Runs the executor, waits until all it emitted is stored, then ends the
    run (status, outcome, statistics, terminal event, expiry) exactly once."""

    def __init__(
        self,
        run: Run,
        executor: Executor,
        *,
        runs: RunRepository,
        events: EventLog,
        writer: EventWriter,
        backoff: Backoff,
        abort: threading.Event,
    ) -> None:
        self.run = run
        self.cancel = threading.Event()
        # The Idempotency-Key of the cancel that stopped the run: its terminal
        # event carries it, so a retry of that cancel answers as the first did.
        self.cancel_key: Idempotency | None = None
        self.done = threading.Event()
        self.interrupted = False
        self._executor = executor
        self._runs = runs
        self._events = events
        self._writer = writer
        self._backoff = backoff
        self._abort = abort
        self._tally = RunTally(writer.sink(run.id))

    def play(self) -> RunStatus:
        """The status the run ended with (RUNNING if it could not be ended).
        Whoever calls it sets `done` once its own bookkeeping is current."""
        try:
            outcome = self._execute()
            self._writer.flush(self.run.id)
            return self._end(self._decide(outcome))
        finally:
            self._writer.forget(self.run.id)

    def _execute(self) -> Outcome:
        try:
            result = self._executor.run(self.run, self._tally, self.cancel)
        except Exception as err:
            logger.warning("run %s: executor failed", self.run.id, exc_info=True)
            return Outcome(RunStatus.FAILED, error=f"{type(err).__name__}: {err}")
        finally:
            self._tally.close()
        return Outcome(RunStatus.COMPLETED, result)

    def _decide(self, outcome: Outcome) -> Outcome:
        """A cancel or a shutdown that came before the end wins over success."""
        if outcome.status is not RunStatus.COMPLETED:
            return outcome
        if self.interrupted:
            return Outcome(RunStatus.FAILED, error=INTERRUPTED)
        if self.cancel.is_set():
            return Outcome(RunStatus.CANCELLED)
        return outcome

    def _end(self, outcome: Outcome) -> RunStatus:
        started = self.run.started_at or self.run.created_at
        duration_ms = int((utc_now() - started).total_seconds() * 1000)
        statistics = self._tally.statistics(duration_ms)
        for delay in self._backoff.delays():
            try:
                run = self._runs.get(self.run.id)
                if run.status.is_terminal:
                    logger.warning("run %s was ended elsewhere", self.run.id)
                    return run.status
                end_run(
                    self._runs,
                    self._events,
                    run,
                    outcome.status,
                    result=outcome.result,
                    error=outcome.error,
                    statistics=statistics,
                    idempotency=self._key_of(outcome.status),
                )
                return outcome.status
            except RunNotActive:
                return self._closed_already(outcome.status)
            except StorageUnavailable as err:
                logger.warning("run %s: cannot end it yet: %s", self.run.id, err)
                if self._abort.wait(delay):
                    break
        logger.error("run %s: gave up ending it as %s", self.run.id, outcome.status)
        return RunStatus.RUNNING

    def _key_of(self, status: RunStatus) -> Idempotency | None:
        return self.cancel_key if status is RunStatus.CANCELLED else None

    def _closed_already(self, status: RunStatus) -> RunStatus:
        """An earlier attempt's terminal event landed though its reply was lost
        (or another writer ended the run): the log is closed; start expiry."""
        try:
            self._events.finish(self.run.id)
            return self._runs.get(self.run.id).status
        except DomainError as err:
            logger.warning("run %s: after ending: %s", self.run.id, err)
            return status
