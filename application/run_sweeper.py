"""RunSweeper: no run stays running, in any process of the fleet.

Every process renews the owner lease of the runs it plays, and ends as
`failed` (`lifecycle.failed` with `{"reason": "owner lost"}`) the runs whose
owner's lease lapsed, and external runs silent for longer than the idle limit.
Ending goes through `end_run`, whose compare-and-set on the status lets one
sweeper only end a run however many processes sweep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from runstream.application.ending import end_run
from runstream.application.periodic import Periodic
from runstream.domain.errors import DomainError, InvalidTransition, RunNotActive
from runstream.domain.leases import RunLeases
from runstream.domain.model import Run, RunId, RunStatus, utc_now
from runstream.domain.ports import EventLog, RunRepository

logger = logging.getLogger(__name__)
OWNER_LOST = "owner lost"
RUN_LEASE_SECONDS = 10.0
PAGE = 100
IDLE_CHECK_SECONDS = 30.0


class RunSweeper:
    """`claim`/`release` the runs this process plays; `start()` renews their
    leases and sweeps every quarter lease; `stop()` ends that, bounded."""

    def __init__(
        self,
        runs: RunRepository,
        leases: RunLeases,
        events: EventLog,
        *,
        owner: str,
        lease_seconds: float = RUN_LEASE_SECONDS,
        idle_seconds: float | None = 86400.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._runs = runs
        self._leases = leases
        self._events = events
        self.owner = owner
        self._lease = timedelta(seconds=lease_seconds)
        self._idle = timedelta(seconds=idle_seconds) if idle_seconds else None
        self._clock = clock
        self._lock = threading.Lock()
        self._owned: set[RunId] = set()
        self._periodic = Periodic(
            "run-sweeper", lease_seconds / 4, self.tick, self._round_failed
        )
        self._idle_checked = float("-inf")

    def claim(self, run_id: RunId) -> None:
        with self._lock:
            self._owned.add(run_id)
        self._renew([run_id])

    def release(self, run_id: RunId) -> None:
        with self._lock:
            self._owned.discard(run_id)

    def start(self) -> None:
        self._periodic.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """True if the sweeper thread ended within `timeout`."""
        return self._periodic.stop(timeout)

    def tick(self) -> int:
        """Renew this process's leases, then end lost runs; how many were ended."""
        with self._lock:
            owned = sorted(self._owned)
        self._renew(owned)
        return self.sweep()

    def sweep(self) -> int:
        now = self._clock()
        lost = self._leases.lapsed(now, now - self._lease, PAGE)
        ended = sum(self._end(run, "the process playing it is gone") for run in lost)
        if self._idle is not None and self._idle_check_due():
            idle = self._idle_runs(now)
            ended += sum(self._end(run, self._idle_error()) for run in idle)
        return ended

    def _idle_check_due(self) -> bool:
        assert self._idle is not None
        every = min(self._idle.total_seconds() / 4, IDLE_CHECK_SECONDS)
        if time.monotonic() - self._idle_checked < every:
            return False
        self._idle_checked = time.monotonic()
        return True

    def _round_failed(self, err: Exception) -> None:
        if isinstance(err, DomainError):
            logger.warning("run sweep failed; retrying: %s", err)
        else:
            logger.error("run sweep failed; retrying", exc_info=err)

    def _renew(self, run_ids: list[RunId]) -> None:
        try:
            self._leases.renew(self.owner, run_ids, self._clock() + self._lease)
        except DomainError as err:
            logger.warning("run leases not renewed: %s", err)

    def _idle_runs(self, now: datetime) -> list[Run]:
        assert self._idle is not None
        idle: list[Run] = []
        before: RunId | None = None
        while True:
            page = self._runs.list(status=RunStatus.RUNNING, before=before, limit=PAGE)
            idle += [run for run in page if self._silent(run, now - self._idle)]
            if len(page) < PAGE:
                return idle
            before = page[-1].id

    def _silent(self, run: Run, since: datetime) -> bool:
        if run.executor != "external":
            return False
        info = self._events.info(run.id)
        if info is not None:
            return info.last_id.ms < since.timestamp() * 1000
        return (run.started_at or run.created_at) < since

    def _idle_error(self) -> str:
        assert self._idle is not None
        return f"no events for {int(self._idle.total_seconds())} s"

    def _end(self, run: Run, error: str) -> bool:
        with self._lock:
            if run.id in self._owned:
                return False
        try:
            end_run(self._runs, self._events, run, RunStatus.FAILED, error=error,
                    reason=OWNER_LOST)  # fmt: skip
        except (InvalidTransition, RunNotActive):
            return False
        except DomainError as err:
            logger.warning("run %s: cannot end it yet: %s", run.id, err)
            return False
        logger.warning("run %s ended as failed: %s", run.id, error)
        return True
