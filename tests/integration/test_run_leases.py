"""SqlRunRepository's owner leases on SQLite and MariaDB: a renewed lease
hides a run from the sweep, a lapsed or never-claimed one shows it, an ended
run is neither renewed nor swept."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from runstream.domain.model import Run, RunStatus, utc_now
from tests.support.sql_backend import mysql_run_backend, sqlite_run_backend


@pytest.fixture(
    params=[
        pytest.param(mysql_run_backend, marks=pytest.mark.mysql),
        sqlite_run_backend,
    ]
)
def runs(request):
    return request.param().make()


def running(runs, executor="simulated", started_ago=0.0) -> Run:
    started = utc_now() - timedelta(seconds=started_ago)
    return runs.add(Run("task", executor=executor, status=RunStatus.RUNNING,
                        started_at=started))  # fmt: skip


def test_a_lapsed_lease_and_an_old_unclaimed_run_are_swept_a_renewed_one_is_not(
    runs,
):
    now = utc_now()
    lapsed, renewed = running(runs), running(runs)
    unclaimed, young = running(runs, started_ago=60), running(runs)
    runs.renew("a", [lapsed.id], now - timedelta(seconds=1))
    runs.renew("b", [renewed.id], now + timedelta(seconds=10))

    found = runs.lapsed(now, now - timedelta(seconds=10))

    assert [run.id for run in found] == [lapsed.id, unclaimed.id]
    assert young.id not in [run.id for run in found]


def test_ended_and_external_runs_are_never_swept_nor_renewed(runs):
    now = utc_now()
    external = running(runs, executor="external", started_ago=60)
    ended = running(runs, started_ago=60)
    runs.update(replace(ended, status=RunStatus.COMPLETED), RunStatus.RUNNING)

    runs.renew("a", [ended.id], now - timedelta(seconds=1))
    found = runs.lapsed(now, now - timedelta(seconds=10))

    assert found == []
    assert external.executor == "external"


def test_a_status_update_keeps_the_lease(runs):
    now = utc_now()
    run = running(runs)
    runs.renew("a", [run.id], now - timedelta(seconds=1))

    runs.update(replace(run, topology_snapshot={"agent_id": "x"}), RunStatus.RUNNING)

    assert [r.id for r in runs.lapsed(now, now - timedelta(seconds=10))] == [run.id]
