"""LlmEventCallback: one agent's LLM calls, streamed as `llm.*` events."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from runstream.adapters.llm_callback.base import CallbackBase
from runstream.domain.model import Category, JsonObject, NewEvent, Source
from runstream.domain.ports import EventSink


class LlmEventCallback(CallbackBase):
    """A callback in LangChain's protocol that emits, for the agent `source`:
    `llm.started` (model, prompt count), `llm.stream` per new token (`content`,
    `tokens`: 1), `llm.completed` (tokens streamed, usage when reported) and
    `llm.failed` (the error). Every event carries `llm_run_id`, LangChain's id of
    the call, so concurrent calls of one agent can be told apart.

    Pass it as `config={"callbacks": [callback]}`. Emitting never waits on
    storage; it runs inline so tokens keep their order.
    """

    run_inline = True
    raise_error = False

    def __init__(self, sink: EventSink, source: Source) -> None:
        self._sink = sink
        self._source = source
        self._lock = threading.Lock()
        self._tokens: dict[UUID, int] = {}

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: Sequence[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._started(run_id, _model(serialized, metadata, kwargs), len(prompts))

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: Sequence[Sequence[object]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        count = sum(len(batch) for batch in messages)
        self._started(run_id, _model(serialized, metadata, kwargs), count)

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: object = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        with self._lock:
            self._tokens[run_id] = self._tokens.get(run_id, 0) + 1
        data: JsonObject = {"content": _text(token), "tokens": 1}
        self._emit("stream", run_id, data)

    def on_llm_end(
        self,
        response: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        data: JsonObject = {"tokens": self._done(run_id)}
        usage = _usage(response)
        if usage:
            data["usage"] = usage
        self._emit("completed", run_id, data)

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        data: JsonObject = {
            "error": f"{type(error).__name__}: {error}",
            "tokens": self._done(run_id),
        }
        self._emit("failed", run_id, data)

    def _started(self, run_id: UUID, model: str, inputs: int) -> None:
        with self._lock:
            self._tokens[run_id] = 0
        self._emit("started", run_id, {"model": model, "inputs": inputs})

    def _done(self, run_id: UUID) -> int:
        with self._lock:
            return self._tokens.pop(run_id, 0)

    def _emit(self, action: str, run_id: UUID, data: JsonObject) -> None:
        data["llm_run_id"] = str(run_id)
        self._sink.emit(NewEvent.build(Category.LLM, action, data, self._source))


def _model(
    serialized: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
    kwargs: dict[str, Any],
) -> str:
    """The model's name, from wherever this LangChain version reports it."""
    params = kwargs.get("invocation_params") or {}
    for candidate in (
        (metadata or {}).get("ls_model_name"),
        params.get("model") if isinstance(params, dict) else None,
        params.get("model_name") if isinstance(params, dict) else None,
        (serialized or {}).get("name"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return "unknown"


def _text(token: str | list[str | dict[str, Any]]) -> str:
    """A token, or the text of a list of content blocks."""
    if isinstance(token, str):
        return token
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in token]
    return "".join(parts)


def _usage(response: Any) -> JsonObject:
    """Token usage reported by the model (chat usage metadata), if any."""
    for generations in getattr(response, "generations", None) or []:
        for generation in generations:
            message = getattr(generation, "message", None)
            usage = getattr(message, "usage_metadata", None)
            if isinstance(usage, dict):
                return {k: v for k, v in usage.items() if isinstance(v, int)}
    return {}
