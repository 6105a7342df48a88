import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runstream.domain.envelope import (
    envelope_json,
    format_timestamp,
    parse_new_event,
    parse_timestamp,
    to_envelope,
)
from runstream.domain.errors import EventTooLarge, InvalidEvent
from runstream.domain.ids import EventId
from runstream.domain.model import AgentType, Category, NewEvent, Source, StoredEvent

SOURCE = {
    "agent_id": "researcher",
    "agent_type": "worker",
    "agent_name": "Researcher",
    "team_name": "research",
}


def submitted(**overrides):
    body = {
        "event": {"category": "llm", "action": "stream"},
        "source": SOURCE,
        "data": {"content": "Analysing the"},
    }
    body.update(overrides)
    return body


def test_timestamp_is_utc_iso_with_milliseconds_and_z():
    assert format_timestamp(1704067200001) == "2024-01-01T00:00:00.001Z"
    assert parse_timestamp("2024-01-01T00:00:00.001Z") == 1704067200001


@given(st.integers(min_value=0, max_value=253402300799999))
def test_every_written_timestamp_reads_back_as_written(ms):
    assert parse_timestamp(format_timestamp(ms)) == ms


def test_other_iso_forms_are_still_read():
    assert parse_timestamp("2024-01-01T00:00:00Z") == 1704067200000
    assert parse_timestamp("2024-01-01T01:00:00.001+01:00") == 1704067200001


def test_envelope_matches_the_contract_example():
    event = parse_new_event(submitted())
    stored = StoredEvent(EventId(1704067200001, 0), 123, 2, 1704067200001, event)

    envelope = json.loads(envelope_json(stored))

    assert envelope == to_envelope(stored)
    assert envelope == {
        "id": "1704067200001-0",
        "run_id": 123,
        "timestamp": "2024-01-01T00:00:00.001Z",
        "sequence": 2,
        "source": SOURCE,
        "event": {"category": "llm", "action": "stream"},
        "data": {"content": "Analysing the"},
    }


def test_source_may_be_null_and_data_defaults_to_an_empty_object():
    event = parse_new_event({"event": {"category": "system", "action": "notice"}})

    assert event.source is None
    assert event.data == {}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (submitted(event={"category": "llm"}), "event.action"),
        (submitted(event={"category": "chat", "action": "x"}), "event.category"),
        (submitted(event={"category": "llm", "action": "Stream"}), "event.action"),
        (submitted(event={"category": "llm", "action": "a" * 65}), "event.action"),
        (submitted(event="llm.stream"), "event must be an object"),
        (submitted(source={"agent_id": "x"}), "source needs"),
        (submitted(source={**SOURCE, "agent_type": "boss"}), "agent_type"),
        (submitted(source={**SOURCE, "agent_name": 5}), "source needs"),
        (submitted(source={**SOURCE, "agent_id": ["x"]}), "source needs"),
        (submitted(event={"category": ["llm"], "action": "x"}), "event.category"),
        (submitted(source={**SOURCE, "extra": "1"}), "unknown fields"),
        (submitted(data=[1, 2]), "data must be a JSON object"),
        (submitted(extra=1), "unknown event fields"),
        ([], "must be a JSON object"),
    ],
)
def test_invalid_events_are_rejected_with_what_is_wrong(body, words):
    with pytest.raises(InvalidEvent, match=words):
        parse_new_event(body)


def test_event_over_the_size_limit_is_rejected():
    body = submitted(data={"content": "x" * 2000})

    with pytest.raises(EventTooLarge):
        parse_new_event(body, max_bytes=1024)


def test_a_source_too_large_for_the_limit_is_refused_every_time():
    body = submitted(source={**SOURCE, "agent_name": "n" * 2000})

    for _attempt in range(2):  # the second finds the source checked already
        with pytest.raises(EventTooLarge):
            parse_new_event(body, max_bytes=1024)


def test_stored_envelope_of_an_accepted_event_fits_the_limit():
    limit = 4096
    body = submitted(data={"content": "y" * 3000})
    event = parse_new_event(body, max_bytes=limit)
    stored = StoredEvent(EventId(2**64 - 1, 2**64 - 1), 2**63 - 1, 2**63 - 1, 0, event)

    assert len(envelope_json(stored).encode()) <= limit


stored_events = st.builds(
    StoredEvent,
    st.builds(EventId, st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
    st.integers(1, 2**63 - 1),
    st.integers(1, 2**63 - 1),
    st.integers(0, 2**45),
    st.builds(
        NewEvent.build,
        st.sampled_from(Category),
        st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
        st.dictionaries(st.text(), st.text() | st.integers()),
        st.none()
        | st.builds(
            Source, st.text(), st.sampled_from(AgentType), st.text(), st.text()
        ),
    ),
)


@given(st.lists(stored_events, min_size=1, max_size=5))
def test_the_envelope_json_is_the_envelope_on_one_compact_line(batch):
    """envelope_json caches the parts that repeat between events; each line must
    still be exactly its own event's envelope."""
    for stored in batch:
        text = envelope_json(stored)
        assert json.loads(text) == to_envelope(stored)
        assert text.startswith(f'{{"id":"{stored.id}","run_id":{stored.run_id},')


def test_events_in_the_same_second_keep_their_own_milliseconds():
    new = NewEvent.build(Category.LLM, "stream", {"content": "a\nb"})
    stamps = [1_700_000_000_000, 1_700_000_000_999, 1_700_000_001_000]
    batch = [StoredEvent(EventId(ms, 0), 7, n, ms, new) for n, ms in enumerate(stamps)]

    times = [json.loads(envelope_json(stored))["timestamp"] for stored in batch]

    assert times == [
        "2023-11-14T22:13:20.000Z",
        "2023-11-14T22:13:20.999Z",
        "2023-11-14T22:13:21.000Z",
    ]
