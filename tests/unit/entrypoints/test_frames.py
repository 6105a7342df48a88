from hypothesis import given
from hypothesis import strategies as st

from runstream.domain.envelope import envelope_json
from runstream.domain.ids import EventId
from runstream.domain.model import AgentType, Category, NewEvent, Source, StoredEvent
from runstream.entrypoints.live.frames import event_frame

sources = st.none() | st.builds(
    Source, st.text(), st.sampled_from(AgentType), st.text(), st.text()
)
events = st.builds(
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
        sources,
    ),
)


def expected(stored):
    envelope = envelope_json(stored).replace("\r", " ").replace("\n", " ")
    return (
        f"id: {stored.id}\nevent: {stored.category.value}.{stored.action}\n"
        f"data: {envelope}\n\n"
    ).encode()


@given(st.lists(events, min_size=1, max_size=5))
def test_an_event_frame_carries_the_envelope_json_on_one_data_line(batch):
    for stored in batch:
        assert event_frame(stored) == expected(stored)
