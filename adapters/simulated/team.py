"""The simulated hierarchy: a global supervisor, team supervisors, workers."""

from __future__ import annotations

from dataclasses import dataclass

from runstream.adapters.simulated.params import SimParams
from runstream.domain.model import AgentType, JsonObject, Source

TEAM_NAMES = (
    "research",
    "analysis",
    "writing",
    "review",
    "data",
    "design",
    "legal",
    "finance",
    "support",
    "operations",
)


@dataclass(frozen=True)
class Agent:
    source: Source
    children: tuple[Agent, ...] = ()

    @property
    def id(self) -> str:
        return self.source.agent_id


def build_team(params: SimParams) -> Agent:
    """The agents tree for `params`, the same for every seed."""
    leads = []
    for name in TEAM_NAMES[: params.teams]:
        title = name.title()
        workers = tuple(
            Agent(
                Source(
                    f"{name}-worker-{n}", AgentType.WORKER, f"{title} Worker {n}", name
                )
            )
            for n in range(1, params.workers_per_team + 1)
        )
        lead = Source(f"{name}-lead", AgentType.TEAM_SUPERVISOR, f"{title} Lead", name)
        leads.append(Agent(lead, workers))
    supervisor = Source(
        "supervisor", AgentType.GLOBAL_SUPERVISOR, "Supervisor", "global"
    )
    return Agent(supervisor, tuple(leads))


def topology_json(agent: Agent) -> JsonObject:
    """The tree as stored in a run's `topology_snapshot`."""
    source = agent.source
    return {
        "agent_id": source.agent_id,
        "agent_type": source.agent_type.value,
        "agent_name": source.agent_name,
        "team_name": source.team_name,
        "children": [topology_json(child) for child in agent.children],
    }
