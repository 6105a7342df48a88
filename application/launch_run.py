"""LaunchRun: `POST /runs` for every executor (docs/contract.md §4)."""

from __future__ import annotations

from runstream.application.run_manager import RunManager
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.model import Run


class LaunchRun:
    """Start a run. Executors that play inside the service (`simulated`) start
    through the run manager; `external` runs wait for their producers."""

    def __init__(self, start: StartRun, manager: RunManager) -> None:
        self._start = start
        self._manager = manager

    def execute(self, request: RunRequest) -> Run:
        """The running run; InvalidRequest for a bad task, executor or params."""
        if self._manager.handles(request.executor):
            return self._manager.start(request)
        return self._start.execute(request)
