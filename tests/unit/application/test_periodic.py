import threading

from runstream.application.periodic import Periodic
from tests.support.polling import wait_until


def test_periodic_runs_its_action_until_stopped():
    calls = []
    periodic = Periodic("counting", 0.01, lambda: calls.append(1))
    periodic.start()

    wait_until(lambda: len(calls) >= 3, "three rounds")
    stopped = periodic.stop(5.0)
    count = len(calls)

    assert stopped
    assert not any(t.name == "counting" for t in threading.enumerate())
    assert len(calls) == count


def test_a_failing_round_is_logged_and_the_next_one_comes(caplog):
    rounds = []

    def flaky() -> None:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("first round fails")

    periodic = Periodic("flaky", 0.01, flaky)
    periodic.start()

    wait_until(lambda: len(rounds) >= 2, "a second round")
    assert periodic.stop(5.0)
    assert "first round fails" in caplog.text


def test_a_failing_round_goes_to_its_error_handler():
    failures = []

    def failing() -> None:
        raise LookupError("nothing to do")

    periodic = Periodic("handled", 0.01, failing, failures.append)
    periodic.start()

    wait_until(lambda: len(failures) >= 2, "two failed rounds")
    assert periodic.stop(5.0)
    assert all(isinstance(f, LookupError) for f in failures)
