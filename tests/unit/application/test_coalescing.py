from hypothesis import given
from hypothesis import strategies as st

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.application.coalescing import MAX_MERGED_CHARS, coalesce
from runstream.domain.model import NewEvent
from tests.factories import completed, event, new_run_id, started, token

AGENTS = ("alpha", "beta")


def stored(events: list[NewEvent]):
    log = InMemoryEventLog()
    run_id = new_run_id()
    return log.append(run_id, [started(), *events])


def texts_per_agent(events) -> dict[str, str]:
    text: dict[str, str] = {}
    for item in events:
        if item.category.value == "llm" and item.action == "stream":
            agent = item.event.source.agent_id
            text[agent] = text.get(agent, "") + item.event.data["content"]
    return text


def test_adjacent_chunks_of_one_agent_become_one_event_with_the_last_position():
    log = stored([token("Hel"), token("lo"), token(" world")])

    merged = coalesce(log)

    assert len(merged) == 2
    last = merged[-1]
    assert (last.id, last.sequence, last.timestamp_ms) == (
        log[-1].id,
        log[-1].sequence,
        log[-1].timestamp_ms,
    )
    assert last.event.data["content"] == "Hello world"
    assert last.event.data["coalesced"] == {"count": 3, "first_id": str(log[1].id)}


def test_chunks_of_other_agents_or_other_events_in_between_are_not_merged_across():
    log = stored(
        [token("a", "alpha"), token("b", "beta"), token("c", "alpha"), event()]
    )

    merged = coalesce(log)

    assert [e.id for e in merged] == [e.id for e in log]
    assert all("coalesced" not in e.event.data for e in merged)


def test_a_group_stops_growing_before_the_merged_text_limit():
    half = "x" * (MAX_MERGED_CHARS // 2 + 1)
    log = stored([token(half), token(half), token(half)])

    merged = coalesce(log)

    assert [len(e.event.data["content"]) for e in merged[1:]] == [len(half)] * 3


log_items = st.lists(
    st.one_of(
        st.builds(token, st.text(max_size=5), st.sampled_from(AGENTS)),
        st.just(event()),
    ),
    max_size=40,
)


@given(items=log_items, cut=st.integers(min_value=0), finished=st.booleans())
def test_a_coalesced_replay_resumed_at_any_delivered_id_gives_the_full_text(
    items, cut, finished
):
    log = stored(items + ([completed()] if finished else []))
    first = coalesce(log)
    cut_at = cut % (len(first) + 1)
    delivered = first[:cut_at]
    resume_after = delivered[-1].id if delivered else None

    rest = [e for e in log if resume_after is None or e.id > resume_after]
    replayed = delivered + coalesce(rest)

    assert texts_per_agent(replayed) == texts_per_agent(log)
    assert [e.id for e in replayed] == sorted({e.id for e in replayed})
    assert replayed[-1].id == log[-1].id
