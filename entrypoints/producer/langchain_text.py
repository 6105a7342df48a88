"""Short texts from what LangChain passes to callbacks: tokens, model names,
usage, and one-line summaries of chain inputs and outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUMMARY_CHARS = 200


def model_name(
    serialized: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    kwargs: Mapping[str, Any],
) -> str:
    """The model's name, from wherever this LangChain version reports it."""
    params = kwargs.get("invocation_params") or {}
    if not isinstance(params, Mapping):
        params = {}
    for candidate in (
        (metadata or {}).get("ls_model_name"),
        params.get("model"),
        params.get("model_name"),
        (serialized or {}).get("name"),
        kwargs.get("name"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return "unknown"


def token_text(token: str | list[str | dict[str, Any]]) -> str:
    """A token, or the text of a list of content blocks."""
    if isinstance(token, str):
        return token
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in token]
    return "".join(parts)


def usage(response: Any) -> dict[str, int]:
    """Token usage reported by the model (chat usage metadata), if any."""
    for generations in getattr(response, "generations", None) or []:
        for generation in generations:
            message = getattr(generation, "message", None)
            found = getattr(message, "usage_metadata", None)
            if isinstance(found, dict):
                return {k: v for k, v in found.items() if isinstance(v, int)}
    return {}


def summary(value: Any) -> str:
    """One line about a chain's input or output: the last message's text for
    a graph state, else the value itself, clipped."""
    if isinstance(value, Mapping) and isinstance(value.get("messages"), list):
        messages = value["messages"]
        value = messages[-1] if messages else ""
    if isinstance(value, Mapping) and len(value) == 1:
        value = next(iter(value.values()))
    content = getattr(value, "content", value)
    if isinstance(content, list):
        content = token_text(content)
    line = " ".join(str(content).split())
    if len(line) > SUMMARY_CHARS:
        return line[: SUMMARY_CHARS - 1] + "…"
    return line
