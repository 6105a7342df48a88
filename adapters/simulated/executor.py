"""SimulatedExecutor: the `simulated` executor of docs/contract.md §4."""

from __future__ import annotations

from runstream.adapters.simulated.params import parse_params
from runstream.adapters.simulated.play import Play, Stopped
from runstream.adapters.simulated.team import build_team, topology_json
from runstream.domain.model import JsonObject, JsonValue, Run
from runstream.domain.ports import Cancellation, EventSink


class SimulatedExecutor:
    """Plays a hierarchical team: the global supervisor plans and dispatches to
    team supervisors, who plan and dispatch to workers; the workers stream LLM
    tokens (multilingual, CJK included) at the requested pace, their results
    flow back up, and the supervisor writes a synthesis. Deterministic for a
    seed; `fail_at` injects a failure (the run then fails with its message)."""

    def prepare(self, params: JsonObject) -> JsonValue:
        return topology_json(build_team(parse_params(params)))

    def run(self, run: Run, sink: EventSink, cancel: Cancellation) -> JsonValue:
        params = parse_params(run.params)
        seed = params.seed if params.seed is not None else run.id
        try:
            return Play(run.task, params, seed, sink, cancel).run()
        except Stopped:
            return None
