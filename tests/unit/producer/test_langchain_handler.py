import subprocess
import sys
import textwrap
import uuid

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.runnables import RunnableLambda

from runstream.entrypoints.producer import Agent, RunstreamCallbackHandler
from tests.support.langchain_graphs import fake_model, supervisor_graph
from tests.support.recording_run import RecordingRun


def failing_model(error):
    def replies():
        raise error
        yield

    return GenericFakeChatModel(messages=replies())


def stream(model, handler):
    return list(model.stream("hello", config={"callbacks": [handler]}))


def streamed_graph(graph, handler):
    start = {"messages": ["Compare three suppliers"], "next": ""}
    config = {"callbacks": [handler]}
    for _ in graph.stream(start, config=config, stream_mode="messages"):
        pass


TEAMS = {
    "research": {"analyst": "The figures rise.", "checker": "Checked twice."},
    "writing": {"writer": "Report written."},
}


def test_a_streamed_reply_becomes_started_stream_and_completed_events():
    run = RecordingRun()

    chunks = stream(
        fake_model("Analysing the 季度 figures"), RunstreamCallbackHandler(run)
    )

    streamed = [e.data["content"] for e in run.events if e.kind == "llm.stream"]
    assert run.kinds() == [
        "llm.started",
        *["llm.stream"] * len(streamed),
        "llm.completed",
    ]
    assert "".join(streamed) == "".join(c.content for c in chunks)
    assert "".join(streamed) == "Analysing the 季度 figures"
    assert run.events[-1].data["tokens"] == len(streamed)


def test_a_model_called_outside_any_agent_speaks_for_the_supervisor():
    run = RecordingRun()

    stream(fake_model("one two"), RunstreamCallbackHandler(run, supervisor="boss"))

    assert {e.agent for e in run.events} == {"boss"}
    assert run.events[0].source["agent_type"] == "global_supervisor"
    assert len({e.data["llm_run_id"] for e in run.events}) == 1


def test_the_model_name_is_reported_when_the_call_starts():
    run = RecordingRun()

    stream(fake_model("hi"), RunstreamCallbackHandler(run))

    assert run.events[0].data["model"] == "GenericFakeChatModel"
    assert run.events[0].data["inputs"] == 1


def test_a_failing_model_becomes_an_llm_failed_event_with_the_error():
    run = RecordingRun()

    with pytest.raises(RuntimeError):
        stream(
            failing_model(RuntimeError("model exploded")), RunstreamCallbackHandler(run)
        )

    assert run.kinds() == ["llm.started", "llm.failed"]
    assert run.events[-1].data["error"] == "RuntimeError: model exploded"


def test_content_blocks_are_streamed_as_their_text():
    run = RecordingRun()

    RunstreamCallbackHandler(run).on_llm_new_token(
        ["Hello ", {"type": "text", "text": "world"}], run_id=uuid.uuid4()
    )

    assert run.events[0].data["content"] == "Hello world"


def test_the_handler_is_a_langchain_handler_that_runs_inline():
    handler = RunstreamCallbackHandler(RecordingRun())

    assert isinstance(handler, BaseCallbackHandler)
    assert handler.run_inline


def test_a_supervisor_graph_shows_as_supervisor_teams_and_workers():
    run = RecordingRun()

    streamed_graph(supervisor_graph(TEAMS), RunstreamCallbackHandler(run))

    types = {e.agent: e.source["agent_type"] for e in run.events}
    teams = {e.agent: e.source["team_name"] for e in run.events}
    assert types == {
        "supervisor": "global_supervisor",
        "research": "team_supervisor", "writing": "team_supervisor",
        "research_lead": "worker", "analyst": "worker", "checker": "worker",
        "writing_lead": "worker", "writer": "worker",
    }  # fmt: skip
    assert teams["analyst"] == teams["checker"] == "research"
    assert teams["writer"] == "writing"


def test_every_agent_streams_its_own_reply_once():
    run = RecordingRun()

    streamed_graph(supervisor_graph(TEAMS), RunstreamCallbackHandler(run))

    assert run.text_of("analyst") == "The figures rise."
    assert run.text_of("checker") == "Checked twice."
    assert run.text_of("writer") == "Report written."
    assert run.text_of("supervisor") == (
        "route researchroute writingall teams reported"
    )


def test_hand_offs_are_dispatches_down_and_results_back_up():
    run = RecordingRun()

    streamed_graph(supervisor_graph(TEAMS), RunstreamCallbackHandler(run))

    handoffs = [
        (e.action, e.agent, e.data["to"])
        for e in run.events
        if e.category == "dispatch"
    ]
    assert handoffs[:3] == [
        ("assigned", "supervisor", "research"),
        ("assigned", "research", "research_lead"),
        ("completed", "research_lead", "research"),
    ]
    assert ("completed", "research", "supervisor") in handoffs
    assert ("assigned", "supervisor", "writing") in handoffs
    result = next(e for e in run.events if e.kind == "dispatch.completed"
                  and e.agent == "analyst")  # fmt: skip
    assert result.data["result"] == "The figures rise."


def test_roles_make_a_flat_graphs_nodes_workers_of_the_supervisor():
    run = RecordingRun()
    roles = {"research": "worker", "writing": "worker"}

    streamed_graph(supervisor_graph(TEAMS), RunstreamCallbackHandler(run, roles=roles))

    research = next(e.source for e in run.events if e.agent == "research")
    assert research["agent_type"] == "worker"
    assert research["team_name"] == "global"


def test_a_chain_named_as_an_agent_is_one_and_its_tools_are_its_dispatches():
    from langchain_core.tools import tool

    @tool
    def lookup(query: str) -> str:
        """Look a figure up."""
        return f"42 for {query}"

    def research(question: str) -> str:
        return lookup.invoke(question)

    chain = RunnableLambda(lambda q: q).with_config(run_name="pipeline") | (
        RunnableLambda(research).with_config(run_name="librarian")
    )
    run = RecordingRun()
    handler = RunstreamCallbackHandler(run, agents=["librarian"])

    chain.invoke("revenue", config={"callbacks": [handler]})

    assert run.kinds() == [
        "dispatch.assigned", "dispatch.tool_started",
        "dispatch.tool_completed", "dispatch.completed",
    ]  # fmt: skip
    assert [e.agent for e in run.events] == ["supervisor", *["librarian"] * 3]
    assert run.events[1].data["tool"] == "lookup"
    assert run.events[2].data["output"] == "42 for revenue"


def test_a_failing_agent_reports_the_failure_to_the_agent_above():
    def broken(_: str) -> str:
        raise ValueError("no data")

    chain = RunnableLambda(lambda q: q) | RunnableLambda(broken).with_config(
        run_name="analyst"
    )
    run = RecordingRun()

    with pytest.raises(ValueError):
        chain.invoke(
            "x",
            config={"callbacks": [RunstreamCallbackHandler(run, agents=["analyst"])]},
        )

    assert run.events[-1].kind == "dispatch.failed"
    assert run.events[-1].data == {"to": "supervisor", "error": "ValueError: no data"}


def test_a_custom_supervisor_agent_is_the_root_of_the_tree():
    run = RecordingRun()
    boss = Agent("ceo", "global_supervisor", "The CEO", "board")

    stream(fake_model("hi"), RunstreamCallbackHandler(run, supervisor=boss))

    assert run.events[0].source == boss.as_json()


def test_without_langchain_core_the_handler_is_a_plain_class_that_still_works():
    script = textwrap.dedent(
        """
        import sys, uuid
        sys.modules["langchain_core"] = None
        from runstream.producer import RunstreamCallbackHandler
        from tests.support.recording_run import RecordingRun

        run, call = RecordingRun(), uuid.uuid4()
        handler = RunstreamCallbackHandler(run)
        handler.on_chat_model_start({}, [["hi"]], run_id=call)
        handler.on_llm_new_token("tok", run_id=call)
        handler.on_llm_end(None, run_id=call)
        print(type(handler).__mro__[1].__module__, run.kinds())
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert done.stdout.split(" ", 1) == [
        "runstream.entrypoints.producer.callback_base",
        "['llm.started', 'llm.stream', 'llm.completed']\n",
    ]
