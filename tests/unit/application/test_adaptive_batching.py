import threading
import time

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.application.live.batching import AdaptiveGather
from runstream.application.live.hub import FanOutHub, HubLimits
from runstream.domain.ids import MIN_ID
from tests.factories import new_run_id, token


def test_reads_that_find_a_single_event_are_followed_at_once():
    gather = AdaptiveGather()

    delays = [gather.after_read(1) for _ in range(20)]

    assert delays == [0.0] * 20


def test_the_gather_grows_with_the_batches_and_stays_bounded():
    gather = AdaptiveGather(max_delay=0.010)

    small = [gather.after_read(10) for _ in range(10)][-1]
    large = [gather.after_read(40) for _ in range(10)][-1]
    huge = [gather.after_read(100_000) for _ in range(10)][-1]

    assert 0 < small < large < huge == 0.010


def test_the_gather_shrinks_again_when_the_load_drops():
    gather = AdaptiveGather()
    for _ in range(10):
        gather.after_read(50)

    delays = [gather.after_read(1) for _ in range(10)]

    assert delays[0] > 0
    assert delays[-1] == 0.0


def test_dear_handling_makes_the_reader_wait_as_long_as_it_handled():
    gather = AdaptiveGather(cost_share=0.5, max_delay=0.010)

    assert gather.after_read(1, seconds=0.002) == 0.002
    assert gather.after_read(1, seconds=1.0) == 0.010


def test_a_reader_that_mostly_waits_for_events_does_not_gather():
    gather = AdaptiveGather(cost_share=0.1, max_delay=0.010)

    waiting = [
        gather.after_read(1, seconds=0.001, runs=10, idle=0.05) for _ in range(5)
    ]
    busy = [gather.after_read(1, seconds=0.001, runs=10, idle=0.0) for _ in range(5)]

    assert waiting == [0.0] * 5
    assert busy[-1] > 0.005  # handling is then most of its time: gather


class Recorder:
    """A pushed subscriber: each batch's events, and when it came."""

    def __init__(self):
        self.batches, self.came, self.ended = [], [], []
        self.got = threading.Event()

    def offer(self, batch):
        self.batches.append(batch.events)
        self.came.append(time.monotonic())
        self.got.set()

    def end(self, error):
        self.ended.append(error)


def test_a_lone_event_at_light_load_is_pushed_without_a_gather():
    log = InMemoryEventLog()
    hub = FanOutHub(log, lambda e: b"x", HubLimits(read_slice=0.02, gather_max=5.0))
    run_id = new_run_id()
    first = log.append(run_id, [token("a")])[0]
    subscriber = Recorder()
    hub.subscribe(run_id, first.id, subscriber)
    arrivals = []

    for text in "bcd":
        subscriber.got.clear()
        appended = time.monotonic()
        log.append(run_id, [token(text)])
        assert subscriber.got.wait(5)
        arrivals.append(subscriber.came[-1] - appended)

    assert [len(b) for b in subscriber.batches] == [1, 1, 1]
    assert max(arrivals) < 1.0  # a gather would have been 5 s
    hub.close()
    assert subscriber.ended == [None]


def test_a_subscriber_gets_what_the_ring_holds_after_its_cursor_then_every_batch():
    log = InMemoryEventLog()
    hub = FanOutHub(log, lambda e: b"x", HubLimits(read_slice=0.02))
    run_id = new_run_id()
    stored = log.append(run_id, [token(t) for t in "abc"])
    hub.wait({run_id: MIN_ID}, timeout=5)  # the ring now holds a, b, c
    subscriber = Recorder()

    hub.subscribe(run_id, stored[0].id, subscriber)
    later = log.append(run_id, [token("d")])
    deadline = time.monotonic() + 5
    while len(subscriber.batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)

    assert subscriber.batches == [stored[1:], later]
    hub.unsubscribe(run_id, subscriber)
    hub.close()
    assert subscriber.ended == []


def test_a_read_over_many_runs_is_followed_by_a_longer_gather_than_one_over_few():
    few, many, all_of_them = AdaptiveGather(), AdaptiveGather(), AdaptiveGather()

    after_few = few.after_read(1, runs=10)
    after_many = many.after_read(1, runs=100)
    after_all = all_of_them.after_read(1, runs=100_000)

    assert after_few < 0.001 < after_many < after_all == all_of_them.max_delay
