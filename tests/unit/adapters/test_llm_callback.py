import subprocess
import sys
import textwrap
import uuid

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.llm_callback import LlmEventCallback
from runstream.application.event_writer import EventWriter
from runstream.domain.model import Category
from tests.factories import new_run_id, source


class ListSink:
    def __init__(self):
        self.events = []

    def emit(self, item):
        self.events.append(item)


def fake_model(*replies):
    return GenericFakeChatModel(messages=iter(replies))


def failing_model(error):
    def replies():
        raise error
        yield

    return GenericFakeChatModel(messages=replies())


def stream(model, callback):
    return list(model.stream("hello", config={"callbacks": [callback]}))


def test_a_streamed_reply_becomes_started_stream_and_completed_events():
    sink = ListSink()
    callback = LlmEventCallback(sink, source("researcher"))

    chunks = stream(fake_model("Analysing the 季度 figures"), callback)

    actions = [e.action for e in sink.events]
    streamed = [e.data["content"] for e in sink.events if e.action == "stream"]
    assert actions == ["started", *["stream"] * len(streamed), "completed"]
    assert "".join(streamed) == "".join(c.content for c in chunks)
    assert "".join(streamed) == "Analysing the 季度 figures"
    assert sink.events[-1].data["tokens"] == len(streamed)


def test_every_event_is_an_llm_event_of_the_agent_and_its_call():
    sink = ListSink()
    agent = source("writer")

    stream(fake_model("one two"), LlmEventCallback(sink, agent))

    call_ids = {e.data["llm_run_id"] for e in sink.events}
    assert all(e.category is Category.LLM for e in sink.events)
    assert all(e.source == agent for e in sink.events)
    assert len(call_ids) == 1


def test_the_model_name_is_reported_when_the_call_starts():
    sink = ListSink()

    stream(fake_model("hi"), LlmEventCallback(sink, source()))

    assert sink.events[0].data["model"] == "GenericFakeChatModel"
    assert sink.events[0].data["inputs"] == 1


def test_a_failing_model_becomes_an_llm_failed_event_with_the_error():
    sink = ListSink()

    with pytest.raises(RuntimeError):
        stream(
            failing_model(RuntimeError("model exploded")),
            LlmEventCallback(sink, source()),
        )

    assert [e.action for e in sink.events] == ["started", "failed"]
    assert sink.events[-1].data["error"] == "RuntimeError: model exploded"


def test_content_blocks_are_streamed_as_their_text():
    sink = ListSink()
    callback = LlmEventCallback(sink, source())

    callback.on_llm_new_token(
        ["Hello ", {"type": "text", "text": "world"}], run_id=uuid.uuid4()
    )

    assert sink.events[0].data["content"] == "Hello world"


def test_the_callback_is_a_langchain_handler_when_langchain_core_is_installed():
    callback = LlmEventCallback(ListSink(), source())

    assert isinstance(callback, BaseCallbackHandler)
    assert callback.run_inline


def test_tokens_reach_the_event_log_in_order_through_the_event_writer():
    log, run_id = InMemoryEventLog(), new_run_id()
    writer = EventWriter(log)
    callback = LlmEventCallback(writer.sink(run_id), source())

    stream(fake_model("a b c d e f"), callback)
    writer.flush(run_id, 5)

    stored = log.read(run_id)
    assert "".join(s.event.data.get("content", "") for s in stored) == "a b c d e f"
    assert [s.sequence for s in stored] == list(range(1, len(stored) + 1))
    writer.shutdown(5)


def test_without_langchain_core_the_callback_is_a_plain_class_that_still_works():
    script = textwrap.dedent(
        """
        import sys, uuid
        sys.modules["langchain_core"] = None
        from runstream.adapters.llm_callback import LlmEventCallback
        from tests.factories import source

        class Sink:
            events = []
            def emit(self, item):
                self.events.append(item)

        sink, call = Sink(), uuid.uuid4()
        callback = LlmEventCallback(sink, source())
        callback.on_chat_model_start({}, [["hi"]], run_id=call)
        callback.on_llm_new_token("tok", run_id=call)
        callback.on_llm_end(None, run_id=call)
        print(type(callback).__mro__[1].__module__, [e.action for e in sink.events])
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert done.stdout.split(" ", 1) == [
        "runstream.adapters.llm_callback.base",
        "['started', 'stream', 'completed']\n",
    ]
