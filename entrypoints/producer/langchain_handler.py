"""RunstreamCallbackHandler: a LangChain chain or LangGraph graph, streamed into
a run as the viewer shows a team (agents: see agents.py).

- chat model / LLM calls -> `llm.started`, `llm.stream` per token (`content`),
  `llm.completed` (tokens, usage) or `llm.failed`, from the calling agent, each
  with `llm_run_id` (LangChain's id of the call);
- an agent starting -> `dispatch.assigned` from the agent that handed over
  (`to`, `to_name`, `task`); ending -> `dispatch.completed` back to it
  (`to`, `result`), or `dispatch.failed` (`to`, `error`);
- tools -> `dispatch.tool_started` / `tool_completed` / `tool_failed`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

from runstream.entrypoints.producer.agents import AgentTracker, Step
from runstream.entrypoints.producer.callback_base import CallbackBase
from runstream.entrypoints.producer.events import Agent, AgentType, Source
from runstream.entrypoints.producer.langchain_text import (
    model_name,
    summary,
    token_text,
    usage,
)


class Emitter(Protocol):
    """Where events go: a producer's `Run`."""

    def emit(
        self,
        category: str,
        action: str,
        data: Mapping[str, Any] | None = None,
        source: Source = None,
    ) -> None: ...


class RunstreamCallbackHandler(CallbackBase):
    """Pass it as `config={"callbacks": [handler]}`. It runs inline, so tokens
    keep their order; each callback only queues an event (Run.emit)."""

    run_inline = True
    raise_error = False

    def __init__(
        self,
        run: Emitter,
        supervisor: str | Agent = "supervisor",
        agents: Collection[str] = (),
        roles: Mapping[str, AgentType] | None = None,
    ) -> None:
        root = supervisor
        if isinstance(root, str):
            root = Agent(root, "global_supervisor", root.title(), "global")
        self._run = run
        self._tracker = AgentTracker(root, agents, roles)
        self._tokens: dict[UUID, int] = {}
        self._lock = threading.Lock()

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name")
        step = self._tracker.start(run_id, parent_run_id, name, metadata)
        if step.starts_agent and step.parent is not None:
            agent = step.agent
            data = {"to": agent.agent_id, "to_name": agent.agent_name}
            self._emit(
                "dispatch", "assigned", step.parent, task=summary(inputs), **data
            )

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        step = self._tracker.end(run_id)
        if step.starts_agent and step.parent is not None:
            to, result = step.parent.agent_id, summary(outputs)
            self._emit("dispatch", "completed", step.agent, to=to, result=result)

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        step = self._tracker.end(run_id)
        if step.starts_agent and step.parent is not None:
            to, text = step.parent.agent_id, _error(error)
            self._emit("dispatch", "failed", step.agent, to=to, error=text)

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: Sequence[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        model = model_name(serialized, metadata, kwargs)
        self._llm_started(run_id, parent_run_id, model, len(prompts))

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: Sequence[Sequence[object]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        model = model_name(serialized, metadata, kwargs)
        self._llm_started(run_id, parent_run_id, model, sum(map(len, messages)))

    def on_llm_new_token(
        self, token: str | list[str | dict[str, Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        text = token_text(token)
        if not text:
            return
        with self._lock:
            self._tokens[run_id] = self._tokens.get(run_id, 0) + 1
        step = self._tracker.owner(run_id)
        self._emit("llm", "stream", step.agent, content=text, llm_run_id=str(run_id))

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        step, tokens = self._llm_done(run_id)
        data: dict[str, Any] = {"tokens": tokens, "llm_run_id": str(run_id)}
        if found := usage(response):
            data["usage"] = found
        self._emit("llm", "completed", step.agent, **data)

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        step, tokens = self._llm_done(run_id)
        data = {"error": _error(error), "tokens": tokens, "llm_run_id": str(run_id)}
        self._emit("llm", "failed", step.agent, **data)

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        step = self._tracker.start(run_id, parent_run_id)
        tool = kwargs.get("name") or (serialized or {}).get("name") or "tool"
        self._emit("dispatch", "tool_started", step.agent, tool=tool,
                   input=summary(input_str), tool_run_id=str(run_id))  # fmt: skip

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        step = self._tracker.end(run_id)
        self._emit("dispatch", "tool_completed", step.agent,
                   output=summary(output), tool_run_id=str(run_id))  # fmt: skip

    def on_tool_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        step = self._tracker.end(run_id)
        self._emit("dispatch", "tool_failed", step.agent,
                   error=_error(error), tool_run_id=str(run_id))  # fmt: skip

    def _llm_started(
        self, run_id: UUID, parent_run_id: UUID | None, model: str, inputs: int
    ) -> None:
        step = self._tracker.start(run_id, parent_run_id)
        with self._lock:
            self._tokens[run_id] = 0
        self._emit("llm", "started", step.agent, model=model, inputs=inputs,
                   llm_run_id=str(run_id))  # fmt: skip

    def _llm_done(self, run_id: UUID) -> tuple[Step, int]:
        with self._lock:
            tokens = self._tokens.pop(run_id, 0)
        return self._tracker.end(run_id), tokens

    def _emit(self, category: str, action: str, agent: Agent, **data: Any) -> None:
        self._run.emit(category, action, data, agent)


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
