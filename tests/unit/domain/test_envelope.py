import json

import pytest

from domain.envelope import (
    envelope_json,
    format_timestamp,
    parse_new_event,
    parse_timestamp,
    to_envelope,
)
from domain.errors import EventTooLarge, InvalidEvent
from domain.ids import EventId
from domain.model import StoredEvent

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


def test_stored_envelope_of_an_accepted_event_fits_the_limit():
    limit = 4096
    body = submitted(data={"content": "y" * 3000})
    event = parse_new_event(body, max_bytes=limit)
    stored = StoredEvent(EventId(2**64 - 1, 2**64 - 1), 2**63 - 1, 2**63 - 1, 0, event)

    assert len(envelope_json(stored).encode()) <= limit
