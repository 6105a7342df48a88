"""Which agent a LangChain callback belongs to.

LangChain reports a tree of runs (chains, chat models, tools), each with its
parent's id. Some chains are agents: the outermost one (the run's global
supervisor), every LangGraph node, and any chain named in `agents`. Every other
run belongs to its nearest agent ancestor. Agents nest like a team: agents
directly under the root are team supervisors (their team is their own name),
deeper ones are workers of the team above them; `roles` overrides the type of
an agent by name (e.g. a flat supervisor graph's nodes as workers).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from runstream.entrypoints.producer.events import Agent, AgentType


@dataclass(frozen=True)
class Step:
    """A LangChain run: the agent it speaks for, and whether it *is* that
    agent's start (then `parent` is the agent that handed the work over)."""

    agent: Agent
    parent: Agent | None = None
    starts_agent: bool = False


class AgentTracker:
    def __init__(
        self,
        root: Agent,
        agents: Collection[str] = (),
        roles: Mapping[str, AgentType] | None = None,
    ) -> None:
        self.root = root
        self._agents = frozenset(agents)
        self._roles = dict(roles or {})
        self._steps: dict[UUID, Step] = {}
        self._lock = threading.Lock()

    def start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Step:
        """Record a run that started; chains pass their name and metadata."""
        with self._lock:
            above = self._steps.get(parent_run_id) if parent_run_id else None
            if above is None:
                step = Step(self.root)
            elif name and self._is_agent(name, metadata, above.agent):
                step = Step(self._agent(name, above.agent), above.agent, True)
            else:
                step = Step(above.agent)
            self._steps[run_id] = step
            return step

    def owner(self, run_id: UUID) -> Step:
        """The step of a running run (the root's for an unknown run)."""
        with self._lock:
            return self._steps.get(run_id) or Step(self.root)

    def end(self, run_id: UUID) -> Step:
        """Forget a run that ended; its step (the root's for an unknown run)."""
        with self._lock:
            return self._steps.pop(run_id, None) or Step(self.root)

    def _is_agent(
        self, name: str, metadata: Mapping[str, Any] | None, owner: Agent
    ) -> bool:
        if name == owner.agent_id or name == self.root.agent_id:
            return False
        if name in self._agents:
            return True
        node = (metadata or {}).get("langgraph_node")
        return node == name and not name.startswith("__") and name not in ("tools",)

    def _agent(self, name: str, parent: Agent) -> Agent:
        nested = parent.agent_type != "global_supervisor"
        role = self._roles.get(name) or ("worker" if nested else "team_supervisor")
        team = name if role == "team_supervisor" else parent.team_name
        label = name.replace("_", " ").strip().title() or name
        return Agent(name, role, label, team)
