"""Reading part of a run gives the same result on every EventLog adapter and both
composites: filtered and coalesced history pages, filtered and coalesced feeds,
and resuming after a coalesced id (docs/contract.md §4, Reading part of a run)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from runstream.adapters.redis_stream.codec import stream_key
from runstream.application.event_selection import EventSelection
from runstream.application.follow_part import FollowRunPart
from runstream.application.follow_run import FollowRun, Idle
from runstream.application.read_events import ReadEvents
from runstream.application.run_part import RunPart
from runstream.domain.errors import RunNotFound
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import Category, Run, RunStatus
from runstream.domain.ports import SelectiveEventLog
from tests.factories import completed, event, new_run_id, run, started, token
from tests.services import require_redis
from tests.support.redis_backend import _client
from tests.support.tiered_backend import archived_log_backend, failover_log_backend

LOG = [
    started(),
    *[token(f"a{i} ", "alpha") for i in range(4)],
    *[token(f"b{i} ", "beta") for i in range(3)],
    event(Category.DISPATCH, "assigned", {"to": "beta"}),
    token("a4 ", "alpha"),
    token("b3 ", "beta"),
    *[token(f"a{i} ", "alpha") for i in range(5, 9)],
    event(),
    completed(),
]
PARTS = {
    "alpha": RunPart(EventSelection.parse(["alpha"], [])),
    "system": RunPart(EventSelection.parse([], ["system", "dispatch"])),
    "coalesced": RunPart(coalesce=True),
    "beta_coalesced": RunPart(EventSelection.parse(["beta"], ["llm"]), True),
}


class OneRun:
    """A RunRepository holding one finished run with the id the test chose."""

    def __init__(self, run_id: int) -> None:
        self._run = replace(run(), id=run_id, status=RunStatus.COMPLETED)

    def get(self, run_id: int) -> Run:
        if run_id != self._run.id:
            raise RunNotFound(f"run {run_id} not found")
        return self._run


def shape(delivered):
    """(sequence, category.action, agent, content, merged count) of each event."""
    return [
        (
            e.sequence,
            f"{e.category.value}.{e.action}",
            None if e.event.source is None else e.event.source.agent_id,
            e.event.data.get("content"),
            (e.event.data.get("coalesced") or {}).get("count", 1),
        )
        for e in delivered
    ]


def expected(stored, part):
    kept = [e for e in stored if part.selection.keeps(e)]
    if not part.coalesce:
        return shape(kept)
    found, group = [], []
    for e in [*kept, None]:
        chunk = e is not None and e.category is Category.LLM
        if group and not (chunk and e.event.source == group[-1].event.source):
            last, text = group[-1], "".join(g.event.data["content"] for g in group)
            agent = last.event.source.agent_id
            found.append((last.sequence, "llm.stream", agent, text, len(group)))
            group = []
        if chunk:
            group.append(e)
        elif e is not None:
            found += shape([e])
    return found


@pytest.fixture
def finished_log(event_log):
    run_id = new_run_id()
    stored = event_log.append(run_id, LOG)
    event_log.finish(run_id)
    return event_log, run_id, stored


def history(log, run_id, part, limit):
    read, seen, start = ReadEvents(OneRun(run_id), log), [], MIN_ID
    while start is not None:
        page = read.execute(run_id, start, limit=limit, part=part)
        seen += page.events
        start = page.next_id
    return seen


def feed(log, run_id, part, after=None):
    follow = FollowRunPart(lambda live: FollowRun(OneRun(run_id), log, live), log)
    items = follow.execute(run_id, after, part, idle_seconds=0.05)
    return [item for item in items if not isinstance(item, Idle)]


@pytest.mark.parametrize("name", sorted(PARTS))
def test_history_pages_of_a_part_are_the_same_on_every_adapter(finished_log, name):
    log, run_id, stored = finished_log
    part = PARTS[name]

    pages = [history(log, run_id, part, limit) for limit in (1, 2, 1000)]

    assert shape(pages[0]) == shape(pages[1]) == shape(pages[2])
    assert shape(pages[2]) == expected(stored, part)
    assert pages[2][-1].is_terminal


@pytest.mark.parametrize("name", sorted(PARTS))
def test_the_stream_of_a_part_is_the_history_of_that_part(finished_log, name):
    log, run_id, stored = finished_log
    part = PARTS[name]

    streamed = feed(log, run_id, part)

    assert shape(streamed) == expected(stored, part)
    assert streamed[-1].is_terminal


def test_a_coalesced_event_carries_the_first_merged_id_and_resumes_after_the_last(
    finished_log,
):
    log, run_id, stored = finished_log
    part = RunPart(coalesce=True)
    replay = feed(log, run_id, part)
    merged = replay[1]

    resumed = feed(log, run_id, part, after=merged.id)

    assert merged.event.data["coalesced"] == {"count": 4, "first_id": str(stored[1].id)}
    assert (merged.id, merged.timestamp_ms) == (stored[4].id, stored[4].timestamp_ms)
    assert shape(resumed) == shape(replay[2:])


SELECTIONS = [
    (frozenset({"alpha"}), frozenset()),
    (frozenset(), frozenset({Category.SYSTEM, Category.DISPATCH})),
    (frozenset({"beta", "nobody"}), frozenset({Category.LLM})),
]


@pytest.mark.parametrize("selection", SELECTIONS, ids=["agent", "category", "both"])
def test_a_log_that_selects_events_reads_what_the_selection_keeps(
    finished_log, selection
):
    log, run_id, stored = finished_log
    if not isinstance(log, SelectiveEventLog):
        pytest.skip("this log hands every event over to be filtered")
    keeps = EventSelection(*selection).keeps
    middle = stored[5].id

    whole = log.read_selected(run_id, MIN_ID, MAX_ID, 1000, *selection)
    after_middle = log.read_selected(run_id, middle, MAX_ID, 1000, *selection)
    first_two = log.read_selected(run_id, MIN_ID, MAX_ID, 2, *selection)

    assert whole == [e for e in stored if keeps(e)]
    assert whole[-1].is_terminal
    assert after_middle == [e for e in stored[5:] if keeps(e)]
    assert first_two == whole[:2]


@pytest.mark.parametrize("name", ["alpha", "beta_coalesced"])
def test_the_stream_of_a_part_goes_on_live_after_its_replay(event_log, name):
    run_id, part = new_run_id(), PARTS[name]
    stored = event_log.append(run_id, LOG[:6])
    follow = FollowRunPart(
        lambda live: FollowRun(OneRun(run_id), event_log, live), event_log
    )
    items = follow.execute(run_id, None, part, idle_seconds=0.05)
    replayed = []
    for item in items:
        if isinstance(item, Idle):
            break
        replayed.append(item)

    stored += event_log.append(run_id, LOG[6:])
    live = [item for item in items if not isinstance(item, Idle)]

    assert shape(replayed) == expected(stored[:6], part)
    assert shape(live) == shape([e for e in stored[6:] if part.selection.keeps(e)])
    assert live[-1].is_terminal


@pytest.fixture(params=["archived", "failover"])
def trimmed_composite(request):
    """A finished run on a composite whose Redis window holds only its last 8
    events (the archive holds them all): reads of part of it cross the tiers."""
    require_redis()
    backends = {"archived": archived_log_backend, "failover": failover_log_backend}
    backend = backends[request.param]()
    log = backend.make()
    archived = log if request.param == "archived" else log.primary
    run_id = new_run_id()
    stored = log.append(run_id, LOG)
    assert archived.archiver.flush()
    redis = _client(require_redis())
    redis.xtrim(stream_key(run_id), minid=str(stored[-8].id), approximate=False)
    yield log, run_id, stored
    backend.purge([run_id])


@pytest.mark.redis
@pytest.mark.parametrize("selection", SELECTIONS, ids=["agent", "category", "both"])
def test_a_selected_read_crosses_the_hot_window_of_a_composite(
    trimmed_composite, selection
):
    log, run_id, stored = trimmed_composite
    keeps = EventSelection(*selection).keeps

    for start in (MIN_ID, stored[3].id, stored[-8].id, stored[-3].id):
        kept = [e for e in stored if e.id >= start and keeps(e)]
        for limit in (1000, 3, 1):
            found = log.read_selected(run_id, start, MAX_ID, limit, *selection)
            assert found == kept[:limit], (start, limit)
    assert log.read(run_id) == stored


@pytest.mark.redis
@pytest.mark.parametrize("name", sorted(PARTS))
def test_history_and_stream_of_a_part_cross_the_hot_window(trimmed_composite, name):
    log, run_id, stored = trimmed_composite
    part = PARTS[name]

    assert shape(history(log, run_id, part, 2)) == expected(stored, part)
    assert shape(feed(log, run_id, part)) == expected(stored, part)
