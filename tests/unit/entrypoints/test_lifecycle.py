import threading

from runstream.entrypoints.lifecycle import Lifecycle, running


class Stubborn:
    """A component whose thread ignores stop for as long as it is told to."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.started = False

    def start(self) -> None:
        self.started = True

    def stop(self, timeout: float) -> bool:
        return self.release.wait(timeout)


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
