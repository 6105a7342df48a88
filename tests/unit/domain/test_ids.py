import pytest
from hypothesis import given
from hypothesis import strategies as st

from runstream.domain.errors import InvalidEventId
from runstream.domain.ids import MAX_ID, MIN_ID, EventId, parse_bound

parts = st.integers(0, 2**64 - 1)


@given(parts, parts)
def test_format_then_parse_gives_the_same_id(ms, seq):
    assert EventId.parse(str(EventId(ms, seq))) == EventId(ms, seq)


@given(parts, parts, parts, parts)
def test_order_is_by_milliseconds_then_counter(a, b, c, d):
    assert (EventId(a, b) < EventId(c, d)) == ((a, b) < (c, d))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        "+",
        "1",
        "1-",
        "-1",
        "01-0",
        "1-01",
        "a-b",
        "1-2-3",
        " 1 - 2",
        "1.0-2",
        "18446744073709551616-0",
        "1-18446744073709551616",
        "١-٢",
    ],
)
def test_parse_rejects_what_is_not_an_event_id(text):
    with pytest.raises(InvalidEventId):
        EventId.parse(text)


def test_parse_bound_accepts_dash_and_plus():
    assert parse_bound("-") == MIN_ID
    assert parse_bound("+") == MAX_ID
    assert parse_bound("5-1") == EventId(5, 1)


def test_successor_is_the_next_position():
    assert EventId(5, 1).successor() == EventId(5, 2)
    assert EventId(5, 2**64 - 1).successor() == EventId(6, 0)


def test_predecessor_is_the_previous_position():
    assert EventId(5, 2).predecessor() == EventId(5, 1)
    assert EventId(6, 0).predecessor() == EventId(5, 2**64 - 1)
    assert EventId(6, 0).predecessor().successor() == EventId(6, 0)


def test_next_for_uses_the_clock_unless_it_went_backwards():
    assert EventId(5, 3).next_for(9) == EventId(9, 0)
    assert EventId(5, 3).next_for(5) == EventId(5, 4)
    assert EventId(5, 3).next_for(2) == EventId(5, 4)
