from runstream.application.backoff import Backoff
from runstream.application.event_writer import EventWriter
from runstream.application.launch_run import LaunchRun
from runstream.application.run_manager import RunManager
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.model import RunStatus
from tests.factories import token


class OneToken:
    def prepare(self, params):
        return {"agents": 1}

    def run(self, run, sink, cancel):
        sink.emit(token())
        return "done"


def launcher(runs, events):
    writer = EventWriter(events, backoff=Backoff(first=0.001))
    manager = RunManager(runs, events, writer, {"simulated": OneToken()})
    return LaunchRun(StartRun(runs, events), manager), manager


def test_a_simulated_run_is_played_by_the_run_manager(runs, events):
    launch, manager = launcher(runs, events)

    run = launch.execute(RunRequest("task", "simulated"))
    assert manager.join(run.id, 5)

    assert run.topology_snapshot == {"agents": 1}
    assert runs.get(run.id).status is RunStatus.COMPLETED
    assert len(events.read(run.id)) == 3
    manager.shutdown(5)


def test_an_external_run_starts_as_before_and_waits_for_its_producers(runs, events):
    launch, manager = launcher(runs, events)

    run = launch.execute(RunRequest("task", "external"))

    assert manager.join(run.id, 0)
    assert runs.get(run.id).status is RunStatus.RUNNING
    assert [s.action for s in events.read(run.id)] == ["started"]
    assert manager.stats().runs_started == 0
    manager.shutdown(5)
