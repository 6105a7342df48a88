"""What a producer emits: agents (the envelope's `source`) and events, checked
and encoded when they are emitted so a bad one fails in the caller, not later
in a batch with good ones."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

AgentType = Literal["global_supervisor", "team_supervisor", "worker"]
AGENT_TYPES = ("global_supervisor", "team_supervisor", "worker")
CATEGORIES = ("lifecycle", "llm", "dispatch", "system")
_ACTION = re.compile(r"[a-z][a-z0-9_]{0,63}")
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":")
).encode


@dataclass(frozen=True)
class Agent:
    """An agent of the team: the `source` of the events it emits."""

    agent_id: str
    agent_type: AgentType = "worker"
    agent_name: str = ""
    team_name: str = "global"

    def __post_init__(self) -> None:
        if self.agent_type not in AGENT_TYPES:
            raise ValueError(f"agent_type must be one of {', '.join(AGENT_TYPES)}")
        if not self.agent_id:
            raise ValueError("agent_id must not be empty")

    def as_json(self) -> dict[str, str]:
        name = self.agent_name or self.agent_id
        return {
            "agent_id": self.agent_id,
            "agent_type": self.agent_type,
            "agent_name": name,
            "team_name": self.team_name,
        }


Source = Agent | Mapping[str, str] | None


def encode_event(
    category: str,
    action: str,
    data: Mapping[str, Any] | None,
    source: Source,
    max_bytes: int,
) -> bytes:
    """The event as the JSON the service takes; ValueError (or TypeError for
    data that is not JSON) when the service would refuse it."""
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
    if not _ACTION.fullmatch(action):
        raise ValueError("action must match [a-z][a-z0-9_]* (at most 64 chars)")
    body = {
        "event": {"category": category, "action": action},
        "source": source_json(source),
        "data": dict(data or {}),
    }
    encoded = _encode(body).encode("utf-8", "strict")
    if len(encoded) > max_bytes:
        raise ValueError(f"event of {len(encoded)} bytes is over {max_bytes}")
    return encoded


def source_json(source: Source) -> dict[str, str] | None:
    if source is None:
        return None
    if isinstance(source, Agent):
        return source.as_json()
    return Agent(
        agent_id=source["agent_id"],
        agent_type=source["agent_type"],  # type: ignore[arg-type]
        agent_name=source.get("agent_name", ""),
        team_name=source.get("team_name", "global"),
    ).as_json()
