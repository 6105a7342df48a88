import threading

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.application.follow_run import FollowRun, Idle
from runstream.application.live.hub import FanOutHub, HubLimits
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.errors import StorageUnavailable, SubscriberLagged
from runstream.domain.ids import MIN_ID
from runstream.domain.model import StoredEvent
from tests.factories import completed, new_run_id, token
from tests.support.polling import wait_until


class CountingLog:
    """The in-memory log, counting the waits the hub makes on it."""

    def __init__(self, log=None):
        self.log = log or InMemoryEventLog()
        self.waits = []
        self.failures = 0

    def __getattr__(self, name):
        return getattr(self.log, name)

    def wait(self, cursors, timeout, limit=1000):
        self.waits.append(dict(cursors))
        if self.failures:
            self.failures -= 1
            raise StorageUnavailable("down")
        return self.log.wait(cursors, timeout, limit)


def encode(event: StoredEvent) -> bytes:
    encode.calls += 1
    return f"id: {event.id}\n\n".encode()


encode.calls = 0


def make_hub(log, **limits):
    return FanOutHub(log, encode, HubLimits(read_slice=0.02, **limits))


@pytest.fixture
def log():
    return CountingLog()


@pytest.fixture
def hub(log):
    made = make_hub(log)
    yield made
    made.close()


def test_a_waiter_gets_the_events_appended_after_its_cursor(hub, log):
    run_id = new_run_id()
    first = log.append(run_id, [token("a")])[0]
    threading.Timer(0.05, lambda: log.append(run_id, [token("b"), token("c")])).start()

    found = hub.wait({run_id: first.id}, timeout=5)

    assert [e.event.data["content"] for e in found[run_id]] == ["b", "c"]


def test_a_wait_with_nothing_new_times_out_empty(hub):
    assert hub.wait({new_run_id(): MIN_ID}, timeout=0.05) == {}


def test_a_wait_without_a_timeout_ends_when_its_wake_event_is_set(hub):
    wake = threading.Event()
    results = []
    waiter = threading.Thread(
        target=lambda: results.append(hub.wait({new_run_id(): MIN_ID}, None, wake=wake))
    )
    waiter.start()
    wait_until(lambda: hub.watched_runs() == 1)

    wake.set()
    waiter.join(timeout=5)

    assert results == [{}]


def test_a_wait_without_a_timeout_ends_on_new_events(hub, log):
    run_id = new_run_id()
    first = log.append(run_id, [token("a")])[0]
    results = []
    waiter = threading.Thread(
        target=lambda: results.append(
            hub.wait({run_id: first.id}, None, wake=threading.Event())
        )
    )
    waiter.start()
    wait_until(lambda: hub.watched_runs() == 1)

    stored = log.append(run_id, [token("b")])
    waiter.join(timeout=5)

    assert results == [{run_id: stored}]


def test_one_reader_wait_covers_every_watched_run(hub, log):
    runs = [new_run_id() for _ in range(3)]
    waiting = [
        threading.Thread(target=hub.wait, args=({run_id: MIN_ID}, 2)) for run_id in runs
    ]
    for thread in waiting:
        thread.start()

    wait_until(lambda: any(set(runs) <= set(c) for c in log.waits))
    for run_id in runs:
        log.append(run_id, [token()])
    for thread in waiting:
        thread.join()


def test_each_event_is_encoded_once_for_all_its_subscribers(hub, log):
    run_id = new_run_id()
    results = []
    subscribers = [
        threading.Thread(target=lambda: results.append(hub.wait({run_id: MIN_ID}, 5)))
        for _ in range(20)
    ]
    for thread in subscribers:
        thread.start()
    wait_until(lambda: any(run_id in c for c in log.waits))
    encode.calls = 0

    stored = log.append(run_id, [token("x")])[0]
    for thread in subscribers:
        thread.join()

    assert all(r[run_id] == [stored] for r in results)
    assert encode.calls == 1
    assert hub.frame(stored) == f"id: {stored.id}\n\n".encode()


def test_a_subscriber_behind_a_trimmed_ring_is_told_it_lagged(log):
    hub = make_hub(log, ring_events=4)
    run_id = new_run_id()
    first = log.append(run_id, [token()])[0]
    hub.wait({run_id: first.id}, 0)
    stored = log.append(run_id, [token(str(i)) for i in range(10)])
    hub.wait({run_id: stored[-2].id}, timeout=5)

    with pytest.raises(SubscriberLagged):
        hub.wait({run_id: first.id}, 0)
    hub.close()


def test_a_subscriber_from_before_the_ring_gets_every_event_once(hub, log):
    run_id = new_run_id()
    stored = log.append(run_id, [token(str(i)) for i in range(5)])
    hub.wait({run_id: stored[3].id}, 0)

    found = hub.wait({run_id: stored[0].id}, timeout=5)

    assert found[run_id] == stored[1:]


def test_a_run_is_read_no_more_once_its_terminal_event_is_in(hub, log):
    run_id, other = new_run_id(), new_run_id()
    hub.wait({other: MIN_ID}, 0)
    stored = log.append(run_id, [token(), completed()])

    found = hub.wait({run_id: MIN_ID}, timeout=5)
    reads = len(log.waits)
    wait_until(lambda: len(log.waits) > reads + 1)

    assert found == {run_id: stored}
    assert run_id not in log.waits[-1]
    assert other in log.waits[-1]


def test_runs_without_subscribers_are_dropped(log):
    hub = make_hub(log, linger=0.05)
    hub.wait({new_run_id(): MIN_ID}, 0.01)

    wait_until(lambda: hub.watched_runs() == 0)
    hub.close()


def test_closing_releases_every_waiter_and_later_waits_return_nothing(hub):
    run_id = new_run_id()
    results = []
    waiter = threading.Thread(
        target=lambda: results.append(hub.wait({run_id: MIN_ID}, 30))
    )
    waiter.start()
    wait_until(lambda: hub.watched_runs() == 1)

    hub.close()
    waiter.join(timeout=5)

    assert results == [{}]
    assert hub.wait({run_id: MIN_ID}, 30) == {}


def test_the_reader_survives_a_backend_failure_and_reports_it(log):
    errors = []
    hub = FanOutHub(log, encode, HubLimits(read_slice=0.02, retry=0.01), errors.append)
    log.failures = 2
    run_id = new_run_id()

    with pytest.raises(StorageUnavailable):
        hub.wait({run_id: MIN_ID}, timeout=5)
    log.append(run_id, [token()])
    found = _wait_through_failures(hub, run_id)

    assert len(found[run_id]) == 1
    assert len(errors) == 2
    hub.close()


def _wait_through_failures(hub, run_id):
    """Waits, as a reconnecting client would, until the log answers again."""
    for _ in range(100):
        try:
            found = hub.wait({run_id: MIN_ID}, timeout=5)
        except StorageUnavailable:
            continue
        if found:
            return found
    raise AssertionError("the hub never served again")


def test_followers_on_the_hub_see_every_event_once_with_appends_racing(log):
    runs_repo_log = log.log
    repo = InMemoryRunRepository()
    run = StartRun(repo, runs_repo_log).execute(RunRequest("t", "external"))
    hub = make_hub(log)
    stop = threading.Event()

    def produce():
        for i in range(300):
            runs_repo_log.append(run.id, [token(str(i))])
        runs_repo_log.append(run.id, [completed()])
        stop.set()

    def follow(into):
        feed = FollowRun(repo, runs_repo_log, hub).execute(run.id, idle_seconds=0.05)
        into.extend(item.sequence for item in feed if not isinstance(item, Idle))

    seen = [[] for _ in range(8)]
    threads = [threading.Thread(target=follow, args=(s,)) for s in seen]
    producer = threading.Thread(target=produce)
    producer.start()
    for thread in threads:
        thread.start()
    for thread in threads + [producer]:
        thread.join(timeout=20)

    assert all(s == list(range(1, 303)) for s in seen)
    hub.close()


def test_the_windows_of_all_runs_together_stay_within_the_memory_bound(log):
    hub = make_hub(log, total_bytes=1000)
    runs = [new_run_id() for _ in range(4)]
    for run_id in runs:
        hub.wait({run_id: MIN_ID}, 0)
    for run_id in runs:
        stored = log.append(run_id, [token("x" * 100) for _ in range(40)])
        hub.wait({run_id: stored[-2].id}, timeout=5)

    assert hub.held_bytes() <= 1000 + 40 * 30
    with pytest.raises(SubscriberLagged):
        hub.wait({runs[0]: MIN_ID}, 0)
    hub.close()
