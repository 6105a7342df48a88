"""Part of a run: filtered and coalesced history pages and live feeds."""

from hypothesis import given, settings
from hypothesis import strategies as st

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.application.append_events import AppendEvents
from runstream.application.coalescing import coalesce
from runstream.application.event_selection import EventSelection
from runstream.application.finish_run import FinishRun
from runstream.application.follow_part import FollowRunPart
from runstream.application.follow_run import Closed, FollowRun, Gap, Idle
from runstream.application.read_events import ReadEvents
from runstream.application.run_part import WHOLE_RUN, RunPart
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.errors import InvalidRequest
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import Category, RunStatus
from tests.factories import event, token
from tests.unit.application.test_reading import TrimmedLog

AGENTS = ("alpha", "beta", "gamma")
LOG_ITEMS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(AGENTS), st.text("ab ", min_size=1, max_size=3)),
        st.just(None),
    ),
    max_size=40,
)
PARTS = st.builds(
    lambda agents, categories, merged: RunPart(
        EventSelection.parse(agents, categories), merged
    ),
    st.sets(st.sampled_from(AGENTS), max_size=2),
    st.sets(st.sampled_from(["llm", "system"]), max_size=1),
    st.booleans(),
)


def a_run(items, finished=True):
    runs, events = InMemoryRunRepository(), InMemoryEventLog()
    run = StartRun(runs, events).execute(RunRequest("task", "external"))
    new = [event() if item is None else token(item[1], item[0]) for item in items]
    if new:
        AppendEvents(runs, events).execute(run.id, new)
    if finished:
        FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)
    return runs, events, run.id


def expected(events, run_id, part):
    kept = part.selection.apply(events.read(run_id, MIN_ID, MAX_ID, 10_000))
    return coalesce(kept) if part.coalesce else kept


def texts(delivered):
    found: dict[str, str] = {}
    for item in delivered:
        if item.category is Category.LLM:
            agent = item.event.source.agent_id
            found[agent] = found.get(agent, "") + item.event.data["content"]
    return found


@settings(max_examples=60, deadline=None)
@given(LOG_ITEMS, PARTS, st.integers(1, 7))
def test_following_next_id_delivers_the_part_once_whatever_the_page_size(
    items, part, limit
):
    runs, events, run_id = a_run(items)
    read, seen, start = ReadEvents(runs, events), [], MIN_ID

    while start is not None:
        page = read.execute(run_id, start, MAX_ID, limit, part=part)
        assert len(page.events) <= limit
        assert page.has_more == (page.next_id is not None)
        seen += page.events
        start = page.next_id

    assert seen == expected(events, run_id, part)


def test_an_unknown_coalesce_value_is_refused():
    try:
        RunPart.parse([], [], ["llm.started"])
    except InvalidRequest as err:
        assert "coalesce" in str(err)
    else:
        raise AssertionError("coalesce=llm.started was accepted")


def feed_until_end(runs, events, run_id, after=None, part=WHOLE_RUN):
    follow = FollowRunPart(lambda live: FollowRun(runs, events, live), events)
    items = follow.execute(run_id, after, part, idle_seconds=0.01)
    return [item for item in items if not isinstance(item, Idle)]


@settings(max_examples=60, deadline=None)
@given(LOG_ITEMS, PARTS, st.data())
def test_a_coalesced_replay_resumed_at_any_delivered_id_gives_the_full_text(
    items, part, data
):
    runs, events, run_id = a_run(items)
    first = feed_until_end(runs, events, run_id, part=part)
    cut = data.draw(st.integers(0, len(first) - 1))

    rest = feed_until_end(runs, events, run_id, first[cut].id, part)
    if first[cut].is_terminal:
        assert rest == [Closed()]
        rest = []

    assert first == expected(events, run_id, part)
    delivered = first[: cut + 1] + rest
    assert texts(delivered) == texts(part.selection.apply(events.read(run_id)))
    assert delivered[-1].is_terminal


def test_live_events_after_a_coalesced_replay_arrive_as_they_are():
    runs, events, run_id = a_run([("alpha", "a"), ("alpha", "b")], finished=False)
    follow = FollowRunPart(lambda live: FollowRun(runs, events, live), events)
    feed = follow.execute(run_id, part=RunPart(coalesce=True), idle_seconds=0.01)
    replayed = [next(feed), next(feed)]
    assert isinstance(next(feed), Idle)

    more = [token("c", "alpha"), token("d", "alpha")]
    AppendEvents(runs, events).execute(run_id, more)
    FinishRun(runs, events).execute(run_id, RunStatus.COMPLETED)
    live = [item for item in feed if not isinstance(item, Idle)]

    assert replayed[1].event.data["coalesced"]["count"] == 2
    assert [item.event.data.get("content") for item in live[:2]] == ["c", "d"]
    assert live[-1].is_terminal


def test_a_filtered_feed_reports_real_gaps_but_never_the_filtered_out_events():
    events = TrimmedLog(keep_from=4)
    runs = InMemoryRunRepository()
    run = StartRun(runs, events).execute(RunRequest("task", "external"))
    AppendEvents(runs, events).execute(
        run.id, [token("x", "alpha"), token("y", "beta"), token("z", "alpha")] * 3
    )
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)
    part = RunPart(EventSelection.parse(["alpha"], []))

    items = feed_until_end(runs, events, run.id, part=part)

    assert sum(isinstance(item, Gap) for item in items) == 1
    assert isinstance(items[0], Gap)
    delivered = items[1:]
    assert all(
        item.is_terminal or item.event.source.agent_id == "alpha" for item in delivered
    )
