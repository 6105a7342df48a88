import threading
import time
import unicodedata

import pytest

from runstream.adapters.simulated.executor import SimulatedExecutor
from runstream.adapters.simulated.play import SimulatedFailure
from runstream.domain.envelope import parse_source, source_json
from runstream.domain.model import AgentType, Category, Run
from tests.support.timing import assert_within

QUICK = {"chunk_delay_ms": 0, "think_ms": 0, "seed": 7}


class ListSink:
    def __init__(self, on_emit=None):
        self.events = []
        self.on_emit = on_emit

    def emit(self, item):
        self.events.append(item)
        if self.on_emit:
            self.on_emit(item)


def play(params, run_id=1, cancel=None, sink=None):
    sink = sink or ListSink()
    run = Run(task="compare the quarterly figures", id=run_id, params=params)
    result = SimulatedExecutor().run(run, sink, cancel or threading.Event())
    return sink.events, result


def by_agent(events, agent_id):
    return [e for e in events if e.source.agent_id == agent_id]


def test_the_topology_is_a_supervisor_over_team_leads_over_workers():
    tree = SimulatedExecutor().prepare({"teams": 3, "workers_per_team": 4})

    leads = tree["children"]
    assert tree["agent_type"] == "global_supervisor"
    assert [lead["agent_type"] for lead in leads] == ["team_supervisor"] * 3
    assert all(len(lead["children"]) == 4 for lead in leads)
    assert {w["agent_type"] for lead in leads for w in lead["children"]} == {"worker"}


def test_every_event_has_a_valid_source_from_the_topology():
    params = {**QUICK, "teams": 2, "workers_per_team": 3, "tokens_per_worker": 20}
    tree = SimulatedExecutor().prepare(params)
    agents = {tree["agent_id"]} | {
        a["agent_id"] for lead in tree["children"] for a in [lead, *lead["children"]]
    }

    events, _ = play(params)

    for item in events:
        assert parse_source(source_json(item.source)) == item.source
        assert item.source.agent_id in agents


def test_each_worker_streams_its_tokens_in_chunks_of_at_most_chunk_size():
    params = {**QUICK, "teams": 2, "workers_per_team": 2, "tokens_per_worker": 23}

    events, _ = play({**params, "chunk_size": 5})

    workers = {
        e.source.agent_id for e in events if e.source.agent_type is AgentType.WORKER
    }
    assert len(workers) == 4
    for worker in workers:
        chunks = [e.data for e in by_agent(events, worker) if e.action == "stream"]
        assert sum(c["tokens"] for c in chunks) == 23
        assert all(1 <= c["tokens"] <= 5 for c in chunks)
        assert [c["index"] for c in chunks] == list(range(len(chunks)))


def test_the_supervisor_plans_and_dispatches_before_work_and_synthesises_last():
    events, result = play({**QUICK, "teams": 2, "workers_per_team": 2})

    supervisor = [(e.category.value, e.action) for e in by_agent(events, "supervisor")]
    first_worker_event = next(
        n for n, e in enumerate(events) if e.source.agent_type is AgentType.WORKER
    )
    dispatches = [e for e in events[:first_worker_event] if e.action == "assigned"]
    assert supervisor[0] == ("llm", "started")
    assert len(dispatches) == 2 + 4
    assert events[-1].source.agent_id == "supervisor"
    assert events[-1].action == "completed"
    assert set(result["teams"]) == {"research", "analysis"}


def test_results_flow_back_up_after_each_worker_completes():
    events, _ = play({**QUICK, "teams": 1, "workers_per_team": 3})

    returns = [
        e for e in events if e.category is Category.DISPATCH and e.action == "completed"
    ]
    for item in returns[:-1]:
        worker_events = by_agent(events, item.source.agent_id)
        assert worker_events[-2].action == "completed"
        assert item.data["to"] == "research-lead"
    assert returns[-1].source.agent_id == "research-lead"
    assert returns[-1].data["to"] == "supervisor"


def test_the_same_seed_plays_the_same_run_and_another_seed_another():
    params = {**QUICK, "teams": 2, "workers_per_team": 3, "tokens_per_worker": 40}

    first, _ = play(params)
    again, _ = play(params, run_id=99)
    other, _ = play({**params, "seed": 8})

    assert first == again
    assert first != other


def test_without_a_seed_the_run_id_is_the_seed():
    params = {"chunk_delay_ms": 0, "think_ms": 0, "tokens_per_worker": 30}

    events, result = play(params, run_id=5)

    assert result["seed"] == 5
    assert events == play(params, run_id=5)[0]


def test_chinese_and_japanese_text_is_streamed_when_asked_for():
    events, _ = play({**QUICK, "languages": ["zh", "ja"], "tokens_per_worker": 30})

    text = "".join(e.data["content"] for e in events if e.action == "stream")
    assert all(unicodedata.east_asian_width(c) in "WF" for c in text)
    assert {e.data["language"] for e in events if e.action == "started"} <= {"zh", "ja"}


def test_the_default_corpus_mixes_scripts():
    params = {**QUICK, "teams": 3, "workers_per_team": 4, "tokens_per_worker": 10}

    events, _ = play(params)

    languages = {e.data["language"] for e in events if e.action == "started"}
    assert len(languages) >= 4


@pytest.mark.parametrize("point", ["planning", "dispatch", "streaming", "aggregation"])
def test_an_injected_failure_raises_with_its_message(point):
    params = {**QUICK, "fail_at": point, "fail_message": f"boom at {point}"}

    with pytest.raises(SimulatedFailure, match=f"boom at {point}"):
        play(params)


def test_a_worker_failing_while_streaming_reports_it_after_its_tokens():
    sink = ListSink()
    params = {**QUICK, "fail_at": "streaming", "fail_after_tokens": 9, "chunk_size": 4}

    with pytest.raises(SimulatedFailure, match="simulated failure during streaming"):
        play(params, sink=sink)

    failing = by_agent(sink.events, "research-worker-1")
    assert sum(e.data["tokens"] for e in failing if e.action == "stream") == 9
    assert failing[-1].action == "failed"
    assert sink.events[-1] == failing[-1]


def test_a_cancelled_run_returns_promptly_even_with_slow_pacing():
    cancel = threading.Event()
    sink = ListSink(lambda item: item.action == "stream" and cancel.set())

    began = time.monotonic()
    events, result = play({"chunk_delay_ms": 10_000}, cancel=cancel, sink=sink)

    assert_within(time.monotonic() - began, 5.0, "a cancel (pacing: 10 s a chunk)")
    assert result is None
    assert events[-1].action == "stream"
