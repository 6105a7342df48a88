import threading

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.application.append_events import AppendEvents
from runstream.application.finish_run import FinishRun
from runstream.application.follow_run import Closed, FollowRun, Gap, Idle
from runstream.application.read_events import ReadEvents
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.errors import InvalidRequest, RunExpired, RunNotFound
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import RunStatus
from tests.factories import token
from tests.support.polling import joined


def start(runs, events):
    return StartRun(runs, events).execute(RunRequest("task", "external"))


def add_tokens(runs, events, run_id, count):
    return AppendEvents(runs, events).execute(
        run_id, [token(str(i)) for i in range(count)]
    )


def events_only(items):
    return [item for item in items if not isinstance(item, Idle)]


def test_paging_by_next_id_visits_every_event_once(runs, events):
    run = start(runs, events)
    add_tokens(runs, events, run.id, 24)
    seen, start_id = [], MIN_ID

    while True:
        page = ReadEvents(runs, events).execute(run.id, start_id, MAX_ID, limit=7)
        seen.extend(page.events)
        if not page.has_more:
            break
        start_id = page.next_id

    assert page.next_id is None
    assert [e.sequence for e in seen] == list(range(1, 26))


def test_a_page_of_exactly_the_remaining_events_has_no_more(runs, events):
    run = start(runs, events)
    add_tokens(runs, events, run.id, 4)

    page = ReadEvents(runs, events).execute(run.id, limit=5)

    assert (page.has_more, page.next_id, len(page.events)) == (False, None, 5)


@pytest.mark.parametrize("limit", [0, 10_001])
def test_a_limit_out_of_range_is_refused(runs, events, limit):
    run = start(runs, events)

    with pytest.raises(InvalidRequest):
        ReadEvents(runs, events).execute(run.id, limit=limit)


def test_reading_an_unknown_run_raises_not_found(runs, events):
    with pytest.raises(RunNotFound):
        ReadEvents(runs, events).execute(404)


def test_a_finished_run_whose_events_expired_raises_expired(runs):
    clock = [1000.0]
    events = InMemoryEventLog(ttl_seconds=60, clock=lambda: clock[0])
    run = start(runs, events)
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)
    clock[0] += 61

    with pytest.raises(RunExpired):
        ReadEvents(runs, events).execute(run.id)
    with pytest.raises(RunExpired):
        FollowRun(runs, events).execute(run.id)


def test_follow_replays_a_finished_run_and_stops_after_the_terminal_event(runs, events):
    run = start(runs, events)
    add_tokens(runs, events, run.id, 3)
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)

    items = list(FollowRun(runs, events).execute(run.id))

    assert [e.sequence for e in items] == [1, 2, 3, 4, 5]
    assert items[-1].is_terminal


def test_follow_starts_after_the_given_id(runs, events):
    run = start(runs, events)
    stored = add_tokens(runs, events, run.id, 3)
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)

    items = list(FollowRun(runs, events).execute(run.id, stored[0].id))

    assert [e.sequence for e in items] == [3, 4, 5]


def test_follow_from_live_skips_what_was_already_there(runs, events):
    run = start(runs, events)
    add_tokens(runs, events, run.id, 3)
    feed = FollowRun(runs, events).execute(run.id, from_live=True, idle_seconds=0.01)
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)

    items = events_only(feed)

    assert [e.sequence for e in items] == [5]


def test_follow_yields_idle_while_nothing_happens(runs, events):
    run = start(runs, events)
    feed = FollowRun(runs, events).execute(run.id, idle_seconds=0.01)

    first, second = next(feed), next(feed)

    assert first.sequence == 1
    assert isinstance(second, Idle)


def test_follow_delivers_racing_appends_exactly_once_in_order(runs, events):
    run = start(runs, events)
    writer_started = threading.Event()

    def producer():
        writer_started.set()
        for _ in range(50):
            add_tokens(runs, events, run.id, 3)
        FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)

    thread = threading.Thread(target=producer)
    thread.start()
    assert writer_started.wait(10)
    items = events_only(FollowRun(runs, events).execute(run.id, idle_seconds=0.05))
    joined(thread)

    assert [e.sequence for e in items] == list(range(1, 153))


class TrimmedLog(InMemoryEventLog):
    """An in-memory log that keeps only events from sequence `keep_from` on,
    as a trimmed Redis hot window does."""

    def __init__(self, keep_from):
        super().__init__()
        self.keep_from = keep_from

    def read(self, run_id, start=MIN_ID, end=MAX_ID, limit=1000):
        found = super().read(run_id, start, end, 10**6)
        return [e for e in found if e.sequence >= self.keep_from][:limit]

    def info(self, run_id):
        info = super().info(run_id)
        kept = self.read(run_id)
        return type(info)(
            kept[0].id,
            kept[0].sequence,
            info.last_id,
            info.last_sequence,
            len(kept),
            info.closed,
        )


def test_follow_reports_a_gap_before_events_that_follow_trimmed_ones(runs):
    events = TrimmedLog(keep_from=5)
    run = start(runs, events)
    stored = add_tokens(runs, events, run.id, 6)
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)

    items = list(FollowRun(runs, events).execute(run.id, stored[0].id))

    assert items[0] == Gap(stored[0].id, stored[3].id)
    assert [e.sequence for e in items[1:]] == [5, 6, 7, 8]


def test_follow_from_the_start_reports_a_gap_when_the_first_events_are_gone(runs):
    events = TrimmedLog(keep_from=3)
    run = start(runs, events)
    stored = add_tokens(runs, events, run.id, 3)
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)

    items = list(FollowRun(runs, events).execute(run.id))

    assert items[0] == Gap(None, stored[1].id)
    assert [e.sequence for e in items[1:]] == [3, 4, 5]


def test_follow_reports_no_gap_when_resuming_from_a_kept_event(runs):
    events = TrimmedLog(keep_from=3)
    run = start(runs, events)
    stored = add_tokens(runs, events, run.id, 3)
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)

    items = list(FollowRun(runs, events).execute(run.id, stored[1].id))

    assert [e.sequence for e in items] == [4, 5]


def test_follow_from_the_terminal_event_of_a_finished_run_is_closed_at_once(
    runs, events
):
    run = start(runs, events)
    add_tokens(runs, events, run.id, 2)
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)
    last = events.info(run.id).last_id

    from_last = list(FollowRun(runs, events).execute(run.id, last))
    from_live = list(FollowRun(runs, events).execute(run.id, from_live=True))

    assert from_last == [Closed()] and from_live == [Closed()]
