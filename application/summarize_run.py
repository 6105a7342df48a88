"""SummarizeRun: a run's figures without a full-log scan per request.

Each process keeps the tally of recently summarized runs with the id of the last
event folded in; a request folds only the events stored since. A tally being
updated is taken out of the cache, so two concurrent requests never fold the
same events twice into one tally (the second just starts its own).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from runstream.application.run_summary import RunTally
from runstream.application.visibility import visible_run
from runstream.domain.ids import MIN_ID, EventId
from runstream.domain.model import JsonObject, RunId
from runstream.domain.ports import EventLog, RunRepository

PAGE = 10_000


class SummarizeRun:
    """Per-agent and per-run figures of one run, kept up to date incrementally."""

    def __init__(
        self, runs: RunRepository, events: EventLog, capacity: int = 1024
    ) -> None:
        self._runs = runs
        self._events = events
        self._capacity = capacity
        self._tallies: OrderedDict[RunId, tuple[RunTally, EventId | None]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def execute(self, run_id: RunId, tenant: str | None = None) -> JsonObject:
        """The summary of every event kept now; RunNotFound for an unknown run."""
        run = visible_run(self._runs, run_id, tenant)
        with self._lock:
            tally, cursor = self._tallies.pop(run_id, (RunTally(), None))
        cursor = self._fold_new(run_id, tally, cursor)
        with self._lock:
            self._tallies[run_id] = (tally, cursor)
            while len(self._tallies) > self._capacity:
                self._tallies.popitem(last=False)
        return {"run_id": run.id, "status": run.status.value, **tally.to_json()}

    def _fold_new(
        self, run_id: RunId, tally: RunTally, cursor: EventId | None
    ) -> EventId | None:
        while True:
            start = MIN_ID if cursor is None else cursor.successor()
            page = self._events.read(run_id, start, limit=PAGE)
            for event in page:
                tally.add(event)
            if page:
                cursor = page[-1].id
            if len(page) < PAGE:
                return cursor
