"""RunManager: executes runs inside the service, in the background."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from runstream.application.backoff import Backoff
from runstream.application.event_writer import EventWriter, WriterStats
from runstream.application.run_execution import Execution
from runstream.application.run_sweeper import RunSweeper
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.errors import InvalidRequest, RunNotActive, StorageUnavailable
from runstream.domain.model import Idempotency, JsonValue, Run, RunId, RunStatus
from runstream.domain.ports import EventLog, Executor, RunRepository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManagerStats:
    """For the metrics endpoint: runs executing now, runs ended by status."""

    active_runs: int
    runs_started: int
    runs_ended: dict[str, int]
    writer: WriterStats


class RunManager:
    """Starts runs whose executor plays in this process (`simulated`), each on a
    thread of its own (a greenlet under a gevent server), and ends them.

    A run ends once: completed with its executor's result, failed with the error
    of an executor that raised, or cancelled. Its terminal event comes after
    everything it emitted is stored. Cancelling is cooperative: the executor
    sees the request at its next step. A run ended by another process (a cancel
    that reached another server worker) is stopped as soon as the log refuses
    its next events.
    """

    def __init__(
        self,
        runs: RunRepository,
        events: EventLog,
        writer: EventWriter,
        executors: Mapping[str, Executor],
        *,
        cancel_wait: float = 2.0,
        backoff: Backoff | None = None,
        sweeper: RunSweeper | None = None,
    ) -> None:
        self._runs = runs
        self._events = events
        self._writer = writer
        self._executors = dict(executors)
        self._cancel_wait = cancel_wait
        self._backoff = backoff or Backoff()
        self._starter = StartRun(runs, events)
        self._sweeper = sweeper
        self._lock = threading.Lock()
        self._active: dict[RunId, Execution] = {}
        self._abort = threading.Event()
        self._closing = False
        self._started = 0
        self._ended: Counter[str] = Counter()
        writer.on_run_closed(self._ended_elsewhere)

    def handles(self, executor: str) -> bool:
        return executor in self._executors

    def start(self, request: RunRequest) -> Run:
        """The running run, its executor started. InvalidRequest for bad params
        (no run is created); StorageUnavailable while shutting down."""
        executor = self._executors.get(request.executor)
        if executor is None:
            raise InvalidRequest(f"executor {request.executor!r} is not run here")
        topology = executor.prepare(dict(request.params or {}))
        if self._closing:
            raise StorageUnavailable("the service is shutting down; no new runs")
        run = self._starter.execute(request)
        if self._sweeper is not None:
            self._sweeper.claim(run.id)
        run = self._with_topology(run, topology)
        execution = Execution(
            run,
            executor,
            runs=self._runs,
            events=self._events,
            writer=self._writer,
            backoff=self._backoff,
            abort=self._abort,
        )
        with self._lock:
            self._active[run.id] = execution
            self._started += 1
            if self._closing:
                execution.interrupted = True
                execution.cancel.set()
        name = f"run-{run.id}"
        threading.Thread(
            target=self._play, args=(execution,), name=name, daemon=True
        ).start()
        return run

    def cancel(self, run_id: RunId, idempotency: Idempotency | None = None) -> bool:
        """Ask an in-process run to stop; False if this process does not run it.
        Waits up to `cancel_wait` seconds for the run to end. The first cancel's
        `idempotency` key goes with the run's `lifecycle.cancelled`."""
        with self._lock:
            execution = self._active.get(run_id)
            if execution is None:
                return False
            if not execution.cancel.is_set():
                execution.cancel_key = idempotency
            execution.cancel.set()
        execution.done.wait(self._cancel_wait)
        return True

    def join(self, run_id: RunId, timeout: float | None = None) -> bool:
        """Wait until an in-process run has ended; True if it is not running here."""
        with self._lock:
            execution = self._active.get(run_id)
        return execution is None or execution.done.wait(timeout)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop taking runs, end the running ones as failed (interrupted), store
        every queued event. True if everything was stored within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closing = True
            executions = list(self._active.values())
        for execution in executions:
            execution.interrupted = True
            execution.cancel.set()
        ended = all(e.done.wait(_left(deadline)) for e in executions)
        drained = self._writer.shutdown(_left(deadline))
        self._abort.set()
        return ended and drained

    def stats(self) -> ManagerStats:
        with self._lock:
            active, started, ended = len(self._active), self._started, self._ended
            return ManagerStats(active, started, dict(ended), self._writer.stats())

    def _with_topology(self, run: Run, topology: JsonValue) -> Run:
        try:
            return self._runs.update(
                replace(run, topology_snapshot=topology), expected=RunStatus.RUNNING
            )
        except (StorageUnavailable, RunNotActive) as err:
            logger.warning("run %s: topology not stored: %s", run.id, err)
            return run

    def _ended_elsewhere(self, run_id: RunId) -> None:
        """Another process cancelled or finished the run: stop its executor."""
        with self._lock:
            execution = self._active.get(run_id)
        if execution is not None:
            execution.cancel.set()

    def _play(self, execution: Execution) -> None:
        status = RunStatus.RUNNING
        try:
            status = execution.play()
        finally:
            with self._lock:
                del self._active[execution.run.id]
                self._ended[status.value] += 1
            if self._sweeper is not None:
                self._sweeper.release(execution.run.id)
            execution.done.set()


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
