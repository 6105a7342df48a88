import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.application.event_selection import EventSelection
from runstream.domain.errors import InvalidRequest
from runstream.domain.model import Category
from tests.factories import completed, event, new_run_id, started, token


def a_log():
    return InMemoryEventLog().append(
        new_run_id(),
        [
            started(),
            token("a", "alpha"),
            token("b", "beta"),
            event(Category.DISPATCH, "assigned"),
            completed(),
        ],
    )


def test_no_filter_keeps_every_event():
    log = a_log()

    assert EventSelection.parse([], []).apply(log) == log


def test_an_agent_filter_keeps_that_agent_and_the_terminal_event():
    log = a_log()

    kept = EventSelection.parse(["alpha"], []).apply(log)

    assert [e.id for e in kept] == [log[1].id, log[4].id]


def test_category_and_agent_filters_must_both_match():
    log = a_log()

    kept = EventSelection.parse(["alpha", "beta"], ["llm"]).apply(log)

    assert [e.id for e in kept] == [log[1].id, log[2].id, log[4].id]


def test_a_category_filter_without_agents_keeps_sourceless_events_of_it():
    log = a_log()

    kept = EventSelection.parse([], ["dispatch", "lifecycle"]).apply(log)

    assert [e.id for e in kept] == [log[0].id, log[3].id, log[4].id]


@pytest.mark.parametrize(
    ("agents", "categories", "message"),
    [([], ["tokens"], "category 'tokens'"), ([""], [], "agent_id must not be empty")],
)
def test_a_bad_filter_value_is_an_invalid_request_naming_it(
    agents, categories, message
):
    with pytest.raises(InvalidRequest, match=message):
        EventSelection.parse(agents, categories)
