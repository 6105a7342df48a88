import pytest

from runstream.application.run_tally import RunTally, stream_tokens
from runstream.domain.errors import InvalidEvent, RunNotActive
from runstream.domain.model import Category, NewEvent
from tests.factories import completed, event, source, started, token


class ListSink:
    def __init__(self):
        self.events = []

    def emit(self, item):
        self.events.append(item)


def chunk(tokens, agent_id="researcher"):
    data = {"content": "x", "tokens": tokens}
    return NewEvent.build(Category.LLM, "stream", data, source(agent_id))


def test_statistics_count_the_started_emitted_and_terminal_events():
    tally = RunTally(ListSink())

    for item in (chunk(4), chunk(3, "writer"), event(Category.DISPATCH, "assigned")):
        tally.emit(item)

    assert tally.statistics(1500) == {
        "events": {"lifecycle": 2, "llm": 2, "dispatch": 1, "system": 0},
        "events_total": 5,
        "tokens_streamed": 7,
        "agents": 2,
        "duration_ms": 1500,
    }


def test_every_event_is_passed_on_in_order():
    sink = ListSink()
    tally = RunTally(sink)

    tally.emit(token("a"))
    tally.emit(token("b"))

    assert sink.events == [token("a"), token("b")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [({"tokens": 5}, 5), ({"content": "x"}, 1), ({"tokens": True}, 1), ({}, 1)],
)
def test_a_stream_event_counts_its_tokens_field_or_one(data, expected):
    item = NewEvent.build(Category.LLM, "stream", data)

    assert stream_tokens(item) == expected


@pytest.mark.parametrize("item", [started(), completed()])
def test_the_services_own_lifecycle_events_are_refused(item):
    sink = ListSink()

    with pytest.raises(InvalidEvent):
        RunTally(sink).emit(item)

    assert sink.events == []


def test_events_after_close_are_refused():
    tally = RunTally(ListSink())
    tally.close()

    with pytest.raises(RunNotActive):
        tally.emit(token())
