from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.application.summarize_run import SummarizeRun
from runstream.domain.model import Category, NewEvent
from tests.factories import completed, run, source, started, token


def dispatch(by: str, to: str) -> NewEvent:
    return NewEvent.build(Category.DISPATCH, "assigned", {"to": to}, source(by))


def llm(action: str, agent: str) -> NewEvent:
    return NewEvent.build(Category.LLM, action, {}, source(agent))


def setup():
    runs = InMemoryRunRepository()
    events = InMemoryEventLog()
    stored = runs.add(run())
    return runs, events, stored.id


def test_the_summary_counts_each_agents_stream_and_dispatches():
    runs, events, run_id = setup()
    events.append(
        run_id,
        [
            started(),
            dispatch("boss", "alpha"),
            llm("started", "alpha"),
            token("Hello", "alpha"),
            token(" you", "alpha"),
            llm("completed", "alpha"),
            completed(),
        ],
    )

    summary = SummarizeRun(runs, events).execute(run_id)

    agents = {a["agent_id"]: a for a in summary["agents"]}
    assert summary["events"] == 7
    assert summary["counts"]["llm.stream"] == 2
    assert agents["alpha"]["chunks"] == 2
    assert agents["alpha"]["characters"] == len("Hello you")
    assert agents["alpha"]["dispatches_received"] == 1
    assert agents["boss"]["dispatches_sent"] == 1
    assert agents["alpha"]["status"] == "completed"
    assert agents["alpha"]["time_to_first_token_ms"] >= 0


def test_a_second_summary_folds_only_new_events_into_the_same_totals():
    runs, events, run_id = setup()
    events.append(run_id, [started(), token("a"), token("b")])
    summarize = SummarizeRun(runs, events)
    summarize.execute(run_id)
    events.append(run_id, [token("c")])

    again = summarize.execute(run_id)
    fresh = SummarizeRun(runs, events).execute(run_id)

    assert again == fresh
    assert again["events"] == 4
    assert again["last_sequence"] == 4
