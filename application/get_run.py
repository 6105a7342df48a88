"""GetRun and ListRuns: reading run records."""

from __future__ import annotations

from collections.abc import Sequence

from runstream.application.visibility import visible_run
from runstream.domain.errors import InvalidRequest
from runstream.domain.model import Run, RunId, RunStatus
from runstream.domain.ports import RunRepository

MAX_LIST = 500


class GetRun:
    """One run, as its tenant sees it."""

    def __init__(self, runs: RunRepository) -> None:
        self._runs = runs

    def execute(self, run_id: RunId, tenant: str | None = None) -> Run:
        return visible_run(self._runs, run_id, tenant)


class ListRuns:
    """The newest runs first; `before` pages on."""

    def __init__(self, runs: RunRepository) -> None:
        self._runs = runs

    def execute(
        self,
        *,
        status: RunStatus | None = None,
        limit: int = 50,
        before: RunId | None = None,
        tenant: str | None = None,
    ) -> Sequence[Run]:
        if not 1 <= limit <= MAX_LIST:
            raise InvalidRequest(f"limit must be 1 to {MAX_LIST}")
        return self._runs.list(status=status, tenant=tenant, before=before, limit=limit)
