"""Admission of simulated runs: per-tenant and per-process concurrency bounds."""

import pytest

from runstream.domain.errors import InvalidRequest
from runstream.entrypoints.http.admission import (
    MAX_RUNS,
    MAX_RUNS_PER_TENANT,
    Admission,
)


def admit(admission, tenant, run_id):
    admission.reserve(tenant)
    admission.settle(tenant, run_id)


def test_a_tenant_at_its_limit_is_refused_while_others_are_admitted():
    admission = Admission(running_here=lambda run_id: True)
    for run_id in range(MAX_RUNS_PER_TENANT):
        admit(admission, "a", run_id)

    with pytest.raises(InvalidRequest, match=f"{MAX_RUNS_PER_TENANT} running per"):
        admission.reserve("a")
    admission.reserve("b")


def test_the_process_limit_counts_every_tenant():
    admission = Admission(running_here=lambda run_id: True)
    for run_id in range(MAX_RUNS):
        admit(admission, f"tenant-{run_id % 10}", run_id)

    with pytest.raises(InvalidRequest, match=f"{MAX_RUNS} running in this process"):
        admission.reserve("newcomer")


def test_runs_that_ended_free_their_place():
    running = set(range(MAX_RUNS_PER_TENANT))
    admission = Admission(running_here=lambda run_id: run_id in running)
    for run_id in sorted(running):
        admit(admission, "a", run_id)

    running.discard(0)

    admission.reserve("a")


def test_a_run_that_failed_to_start_frees_its_reservation():
    admission = Admission(running_here=lambda run_id: True)
    for _ in range(MAX_RUNS_PER_TENANT):
        admission.reserve("a")
        admission.settle("a", None)

    admission.reserve("a")
