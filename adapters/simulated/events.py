"""The events a simulated agent emits."""

from __future__ import annotations

import json

from runstream.adapters.simulated.team import Agent
from runstream.domain.model import Category, JsonObject, NewEvent

MODEL = "sim-1"
# The text dump_json writes, from one reused encoder: chunks are the hot path.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def llm_started(agent: Agent, purpose: str, language: str) -> NewEvent:
    data: JsonObject = {"model": MODEL, "purpose": purpose, "language": language}
    return NewEvent.build(Category.LLM, "started", data, agent.source)


def llm_chunk(agent: Agent, content: str, tokens: int, index: int) -> NewEvent:
    data: JsonObject = {"content": content, "tokens": tokens, "index": index}
    return NewEvent(Category.LLM, "stream", agent.source, _encode(data))


def llm_completed(agent: Agent, tokens: int) -> NewEvent:
    data: JsonObject = {"model": MODEL, "tokens": tokens}
    return NewEvent.build(Category.LLM, "completed", data, agent.source)


def llm_failed(agent: Agent, error: str) -> NewEvent:
    return NewEvent.build(Category.LLM, "failed", {"error": error}, agent.source)


def assigned(by: Agent, to: Agent, task: str) -> NewEvent:
    data: JsonObject = {"to": to.id, "to_name": to.source.agent_name, "task": task}
    return NewEvent.build(Category.DISPATCH, "assigned", data, by.source)


def returned(by: Agent, to: Agent, result: str) -> NewEvent:
    """A result flowing back up to the agent that assigned the task."""
    data: JsonObject = {"to": to.id, "result": result}
    return NewEvent.build(Category.DISPATCH, "completed", data, by.source)
