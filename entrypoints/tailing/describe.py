"""One short line for each event that is not streamed text."""

from __future__ import annotations

import json
from typing import Any

_TARGET_KEYS = ("to_agent_name", "to_name", "to", "target", "assignee", "agent_id")
_TASK_KEYS = ("task", "instruction", "description", "subtask")


def label(source: dict[str, Any] | None) -> str:
    """The agent's name as people read it; the run itself when there is none."""
    if not source:
        return "run"
    return str(source.get("agent_name") or source.get("agent_id") or "agent")


def summary(data: dict[str, Any], limit: int = 100) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if data.get(key):
            return str(data[key])
    return None


def describe(
    envelope: dict[str, Any], names: dict[str, str] | None = None
) -> tuple[str, str] | None:
    """(kind, text) for the event, or None when it is not worth a line; kind is
    one of start, done, error, dispatch, other. `names` maps agent ids to names."""
    kind = envelope.get("event") or {}
    category, action = kind.get("category"), kind.get("action")
    data = envelope.get("data") or {}
    source = envelope.get("source")
    who = label(source) if source else f"run {envelope.get('run_id')}"
    if category == "lifecycle":
        return _lifecycle(who, str(action), data)
    if category == "dispatch":
        return "dispatch", _dispatch(who, str(action), data, names or {})
    if category == "llm":
        if action in ("error", "failed"):
            return (
                "error",
                f"{who} {category}.{action}: {data.get('error') or summary(data)}",
            )
        return None
    return "other", f"{who} {category}.{action} {summary(data)}".rstrip()


def _dispatch(
    who: str, action: str, data: dict[str, Any], names: dict[str, str]
) -> str:
    target = _first(data, _TARGET_KEYS)
    if target is not None and "to_name" not in data and "to_agent_name" not in data:
        target = names.get(target, target)
    if action == "completed" and "result" in data:
        return f"{who} returned a result to {target or 'its supervisor'}"
    task = _first(data, _TASK_KEYS)
    arrow = f" -> {target}" if target else ""
    detail = f": {task}" if task else (f" {summary(data)}" if data else "")
    return f"{who} {action}{arrow}{detail}"


def _lifecycle(who: str, action: str, data: dict[str, Any]) -> tuple[str, str]:
    if action == "failed":
        return "error", f"{who} failed: {data.get('error') or summary(data)}"
    if action == "completed":
        return "done", f"{who} completed"
    if action == "started" and data.get("task"):
        return "start", f"{who} started: {data['task']}"
    return "start", f"{who} {action}"
