"""Which runs a caller may see: its tenant's, or all when authentication is off."""

from __future__ import annotations

from runstream.domain.errors import RunNotFound
from runstream.domain.model import Run, RunId
from runstream.domain.ports import RunRepository


def visible_run(runs: RunRepository, run_id: RunId, tenant: str | None) -> Run:
    """The run, or RunNotFound when it is missing or belongs to another tenant."""
    run = runs.get(run_id)
    if tenant is not None and run.tenant != tenant:
        raise RunNotFound(f"run {run_id} not found")
    return run
