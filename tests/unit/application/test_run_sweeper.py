"""RunSweeper on the in-memory adapters: runs whose owner's lease lapsed and
silent external runs end as failed, once, with reason "owner lost"."""

from __future__ import annotations

import time
from datetime import timedelta

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.application.run_sweeper import OWNER_LOST, RunSweeper
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import RunStatus, utc_now
from tests.factories import token


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def world(executor="simulated"):
    runs, log, clock = InMemoryRunRepository(), InMemoryEventLog(), Clock()
    run = StartRun(runs, log).execute(RunRequest("task", executor))

    def sweeper(owner, idle=None):
        return RunSweeper(runs, runs, log, owner=owner, lease_seconds=10,
                          idle_seconds=idle, clock=clock)  # fmt: skip

    return runs, log, clock, run, sweeper


def last_event(log, run_id):
    return log.read(run_id, MIN_ID, MAX_ID, 10**6)[-1]


def test_a_run_whose_owner_stopped_renewing_ends_failed_with_owner_lost():
    runs, log, clock, run, sweeper = world()
    owner, other = sweeper("a"), sweeper("b")
    owner.claim(run.id)

    clock.advance(11)
    ended = other.sweep()

    assert ended == 1
    assert runs.get(run.id).status is RunStatus.FAILED
    assert last_event(log, run.id).action == "failed"
    assert last_event(log, run.id).event.data["reason"] == OWNER_LOST


def test_a_renewed_lease_keeps_the_run_running():
    runs, _log, clock, run, sweeper = world()
    owner, other = sweeper("a"), sweeper("b")
    owner.claim(run.id)

    for _ in range(5):
        clock.advance(6)
        owner.tick()
    ended = other.sweep()

    assert ended == 0
    assert runs.get(run.id).status is RunStatus.RUNNING


def test_two_sweepers_end_a_lost_run_once():
    _runs, log, clock, run, sweeper = world()
    sweeper("a").claim(run.id)
    clock.advance(11)

    ended = sweeper("b").sweep() + sweeper("c").sweep()

    assert ended == 1
    actions = [e.action for e in log.read(run.id, MIN_ID, MAX_ID, 10**6)]
    assert actions.count("failed") == 1


def test_a_silent_external_run_ends_after_the_idle_limit_and_a_busy_one_does_not():
    runs, log, _clock, silent, _sweeper = world("external")
    busy = StartRun(runs, log).execute(RunRequest("busy", "external"))
    sweeper = RunSweeper(runs, runs, log, owner="a", idle_seconds=0.3)
    time.sleep(0.4)  # the idle limit passes for both runs
    log.append(busy.id, [token()])

    ended = sweeper.sweep()

    assert ended == 1
    assert runs.get(silent.id).status is RunStatus.FAILED
    assert runs.get(busy.id).status is RunStatus.RUNNING
    assert last_event(log, silent.id).event.data["reason"] == OWNER_LOST


def test_the_sweeper_stops_within_its_bound():
    *_, sweeper = world()
    running = sweeper("a")
    running.start()

    assert running.stop(timeout=2.0)
