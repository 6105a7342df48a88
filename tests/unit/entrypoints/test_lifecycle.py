import threading

from runstream.entrypoints.lifecycle import Lifecycle, Periodic, running
from tests.support.polling import wait_until


class Stubborn:
    """A component whose thread ignores stop for as long as it is told to."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.started = False

    def start(self) -> None:
        self.started = True

    def stop(self, timeout: float) -> bool:
        return self.release.wait(timeout)


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


def test_stop_is_bounded_and_names_the_components_that_did_not_stop():
    quick, stuck = threading.Event(), threading.Event()
    quick.set()
    lifecycle = Lifecycle({"quick": Stubborn(quick), "stuck": Stubborn(stuck)})

    late = lifecycle.stop(0.05)

    assert late == ["stuck"]


def test_the_resource_starts_every_listed_component_and_skips_absent_ones():
    released = threading.Event()
    released.set()
    component = Stubborn(released)
    resource = running({"here": component, "absent": None})

    lifecycle = next(resource)

    assert component.started
    assert list(lifecycle.components) == ["here"]
    resource.close()
