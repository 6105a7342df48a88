"""The in-memory RunRepository."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from runstream.domain.errors import InvalidTransition, RunNotFound
from runstream.domain.model import Run, RunId, RunStatus


class InMemoryRunRepository:
    """Runs in a dict; values are deep-copied in and out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[RunId, Run] = {}
        self._next_id = 1
        self._leases: dict[RunId, datetime] = {}

    def add(self, run: Run) -> Run:
        with self._lock:
            stored = replace(copy.deepcopy(run), id=self._next_id)
            self._runs[stored.id] = stored
            self._next_id += 1
            return copy.deepcopy(stored)

    def get(self, run_id: RunId) -> Run:
        with self._lock:
            if run_id not in self._runs:
                raise RunNotFound(f"run {run_id} not found")
            return copy.deepcopy(self._runs[run_id])

    def update(self, run: Run, expected: RunStatus) -> Run:
        with self._lock:
            current = self._runs.get(run.id)
            if current is None:
                raise RunNotFound(f"run {run.id} not found")
            if current.status is not expected:
                raise InvalidTransition(
                    f"run {run.id} is {current.status.value}, not {expected.value}"
                )
            self._runs[run.id] = copy.deepcopy(run)
            return copy.deepcopy(run)

    def list(
        self,
        *,
        status: RunStatus | None = None,
        tenant: str | None = None,
        before: RunId | None = None,
        limit: int = 50,
    ) -> Sequence[Run]:
        with self._lock:
            found = [
                run
                for run_id, run in sorted(self._runs.items(), reverse=True)
                if (status is None or run.status is status)
                and (tenant is None or run.tenant == tenant)
                and (before is None or run_id < before)
            ]
            return copy.deepcopy(found[: max(limit, 0)])

    def renew(self, owner: str, run_ids: Sequence[RunId], until: datetime) -> None:
        with self._lock:
            for run_id in run_ids:
                run = self._runs.get(run_id)
                if run is not None and run.status is RunStatus.RUNNING:
                    self._leases[run_id] = until

    def lapsed(
        self, now: datetime, unclaimed_before: datetime, limit: int = 100
    ) -> Sequence[Run]:
        with self._lock:
            found = [
                run
                for run_id, run in sorted(self._runs.items())
                if run.status is RunStatus.RUNNING
                and run.executor != "external"
                and _lapsed(self._leases.get(run_id), run, now, unclaimed_before)
            ]
            return copy.deepcopy(found[: max(limit, 0)])


def _lapsed(
    lease: datetime | None, run: Run, now: datetime, unclaimed_before: datetime
) -> bool:
    if lease is not None:
        return lease < now
    return (run.started_at or run.created_at) < unclaimed_before
