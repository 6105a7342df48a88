"""The Redis log's selection on raw stream entries keeps exactly what the
selection keeps of the decoded events (terminal events always)."""

from __future__ import annotations

import itertools

import pytest

from runstream.adapters.redis_stream.codec import stored_fields
from runstream.adapters.redis_stream.selected import RawSelection
from runstream.application.event_selection import EventSelection
from runstream.domain.ids import EventId
from runstream.domain.model import Category, Idempotency, StoredEvent
from tests.factories import completed, event, started, token

EVENTS = [started(), token("a", "alpha"), token("b", "beta"), event(), completed()]
KEYS = [None, Idempotency("key", "digest")]
SELECTIONS = [
    (frozenset({"alpha"}), frozenset()),
    (frozenset(), frozenset({Category.SYSTEM})),
    (frozenset({"beta"}), frozenset({Category.LLM})),
    (frozenset({"nobody"}), frozenset({Category.DISPATCH})),
]


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("reordered", [False, True])
def test_raw_entries_pass_as_their_decoded_events_do(selection, reordered):
    raw, decoded = RawSelection(*selection), EventSelection(*selection)
    for new, key in itertools.product(EVENTS, KEYS):
        stored = StoredEvent(EventId(1, 0), 1, 2, 0, new, key)
        flat = list(stored_fields(stored))
        if reordered:  # not the scripts' layout: read by name
            pairs = list(zip(flat[::2], flat[1::2], strict=True))
            flat = [part for pair in reversed(pairs) for part in pair]

        assert raw.keeps(flat) == decoded.keeps(stored), (new, key)
