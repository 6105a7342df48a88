import pytest

from runstream.domain.errors import InvalidTransition
from runstream.domain.model import Run, RunStatus

TERMINAL = [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED]


def test_a_pending_run_starts_and_records_when():
    running = Run(task="t").transition(RunStatus.RUNNING)

    assert running.status is RunStatus.RUNNING
    assert running.started_at is not None


@pytest.mark.parametrize("status", TERMINAL)
def test_a_running_run_ends_in_any_terminal_state(status):
    ended = Run(task="t").transition(RunStatus.RUNNING).finished(status, error="e")

    assert ended.status is status
    assert ended.completed_at is not None
    assert ended.error == "e"


@pytest.mark.parametrize("ended", TERMINAL)
@pytest.mark.parametrize("target", list(RunStatus))
def test_a_finished_run_cannot_change_again(ended, target):
    run = Run(task="t").transition(RunStatus.RUNNING).transition(ended)

    with pytest.raises(InvalidTransition):
        run.transition(target)


def test_a_running_run_cannot_go_back_to_pending():
    with pytest.raises(InvalidTransition):
        Run(task="t").transition(RunStatus.RUNNING).transition(RunStatus.PENDING)
