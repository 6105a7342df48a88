"""Bounds on the runs the service plays itself (`simulated`), checked by POST /runs.

A run's params must stay within the load bounds of adapters/simulated/params.py
(events per run, a pacing floor); and each process plays at most
MAX_RUNS_PER_TENANT such runs of one tenant at a time, and MAX_RUNS in all.
Refusals are `INVALID_REQUEST` naming the limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import current_app

from runstream.adapters.simulated.params import check_load, parse_params
from runstream.application.run_manager import RunManager
from runstream.application.start_run import RunRequest
from runstream.domain.errors import InvalidRequest
from runstream.domain.model import Run, RunId

MAX_RUNS_PER_TENANT = 10
MAX_RUNS = 50
PLAYED_HERE = ("simulated",)


class Admission:
    """Counts the runs this process plays, per tenant; a run counts from its
    admission until the run manager says it is no longer running here."""

    def __init__(self, running_here: Callable[[RunId], bool]) -> None:
        self._running_here = running_here
        self._lock = threading.Lock()
        self._runs: dict[str | None, set[RunId]] = {}
        self._pending: dict[str | None, int] = {}

    def reserve(self, tenant: str | None) -> None:
        with self._lock:
            for runs in self._runs.values():
                runs.difference_update([r for r in runs if not self._running_here(r)])
            mine = len(self._runs.get(tenant, ())) + self._pending.get(tenant, 0)
            total = sum(map(len, self._runs.values())) + sum(self._pending.values())
            if mine >= MAX_RUNS_PER_TENANT:
                raise InvalidRequest(
                    f"too many simulated runs at once: the limit is "
                    f"{MAX_RUNS_PER_TENANT} running per tenant"
                )
            if total >= MAX_RUNS:
                raise InvalidRequest(
                    f"too many simulated runs at once: the limit is {MAX_RUNS} "
                    "running in this process"
                )
            self._pending[tenant] = self._pending.get(tenant, 0) + 1

    def settle(self, tenant: str | None, run_id: RunId | None) -> None:
        """The reserved run started as `run_id`, or did not start (None)."""
        with self._lock:
            self._pending[tenant] -= 1
            if run_id is not None:
                self._runs.setdefault(tenant, set()).add(run_id)


def admission_for(manager: RunManager) -> Admission:
    return Admission(lambda run_id: not manager.join(run_id, 0))


def start_admitted(start: Callable[[RunRequest], Run], wanted: RunRequest) -> Run:
    """`start(wanted)`, once the run is within the bounds of its executor."""
    if wanted.executor not in PLAYED_HERE:
        return start(wanted)
    check_load(parse_params(dict(wanted.params or {})))
    admission: Admission = current_app.extensions["runstream.admission"]
    admission.reserve(wanted.tenant)
    run_id = None
    try:
        run = start(wanted)
        run_id = run.id
    finally:
        admission.settle(wanted.tenant, run_id)
    return run
