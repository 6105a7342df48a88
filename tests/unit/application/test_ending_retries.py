"""Finish and cancel whose reply was lost: the terminal event may be stored, so
the run is never rolled back, and a retry answers like the first time."""

from __future__ import annotations

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.application.cancel_run import CancelRun
from runstream.application.finish_run import FinishRun
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.errors import (
    IdempotencyKeyReused,
    RunNotActive,
    StorageUnavailable,
)
from runstream.domain.model import Idempotency, RunStatus


class LostReplyLog(InMemoryEventLog):
    """Stores the next append, then goes down before it answers (until `heal`)."""

    def __init__(self) -> None:
        super().__init__()
        self.lose_next = False
        self.down = False
        self.finished: list[int] = []

    def append(self, run_id, events, idempotency=None):
        self._check()
        stored = super().append(run_id, events, idempotency)
        if self.lose_next:
            self.lose_next, self.down = False, True
            raise StorageUnavailable("the reply was lost")
        return stored

    def read(self, *args, **kwargs):
        self._check()
        return super().read(*args, **kwargs)

    def info(self, run_id):
        self._check()
        return super().info(run_id)

    def finish(self, run_id):
        self._check()
        self.finished.append(run_id)
        super().finish(run_id)

    def _check(self) -> None:
        if self.down:
            raise StorageUnavailable("down")


@pytest.fixture
def events():
    return LostReplyLog()


def start(runs, events):
    return StartRun(runs, events).execute(RunRequest("task", "external"))


def lose_the_reply_of(events, call):
    events.lose_next = True
    with pytest.raises(StorageUnavailable):
        call()
    events.down = False


def test_a_lost_finish_reply_leaves_the_run_ended_with_its_expiry_started(runs, events):
    run = start(runs, events)
    finish = FinishRun(runs, events)
    lose_the_reply_of(events, lambda: finish.execute(run.id, RunStatus.COMPLETED))

    with pytest.raises(RunNotActive):
        finish.execute(run.id, RunStatus.COMPLETED)

    terminal = [e for e in events.read(run.id) if e.is_terminal]
    assert len(terminal) == 1
    assert runs.get(run.id).status is RunStatus.COMPLETED
    assert events.finished == [run.id]


def test_a_keyed_finish_retried_after_a_lost_reply_answers_like_the_first_time(
    runs, events
):
    run = start(runs, events)
    finish = FinishRun(runs, events)
    key = Idempotency("finish-1", "digest-a")
    lose_the_reply_of(
        events,
        lambda: finish.execute(run.id, RunStatus.FAILED, error="x", idempotency=key),
    )

    again = finish.execute(run.id, RunStatus.FAILED, error="x", idempotency=key)

    assert (again.run.status, again.run.error) == (RunStatus.FAILED, "x")
    assert again.replayed
    assert [e.action for e in events.read(run.id)] == ["started", "failed"]
    assert events.finished == [run.id]


def test_a_keyed_cancel_retried_after_it_succeeded_answers_like_the_first_time(
    runs, events
):
    run = start(runs, events)
    cancel = CancelRun(runs, events)
    key = Idempotency("cancel-1", "digest-c")
    first = cancel.execute(run.id, idempotency=key)

    again = cancel.execute(run.id, idempotency=key)

    assert again.run == first.run and again.replayed and not first.replayed
    assert [e.action for e in events.read(run.id)] == ["started", "cancelled"]


def test_a_finish_key_reused_for_another_outcome_is_refused(runs, events):
    run = start(runs, events)
    finish = FinishRun(runs, events)
    finish.execute(run.id, RunStatus.COMPLETED, idempotency=Idempotency("k", "one"))

    with pytest.raises(IdempotencyKeyReused):
        finish.execute(run.id, RunStatus.FAILED, idempotency=Idempotency("k", "two"))


def test_a_finish_that_lost_the_race_is_refused_and_leaves_the_winner(runs, events):
    run = start(runs, events)
    FinishRun(runs, events).execute(run.id, RunStatus.FAILED, error="first")

    with pytest.raises(RunNotActive):
        FinishRun(runs, events).execute(
            run.id, RunStatus.COMPLETED, idempotency=Idempotency("late", "d")
        )

    assert runs.get(run.id).error == "first"
