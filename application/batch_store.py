"""BatchStore: appends one run's batch to the EventLog, retrying while it is down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from runstream.application.backoff import Backoff
from runstream.domain.errors import DomainError, RunNotActive, StorageUnavailable
from runstream.domain.model import NewEvent, RunId
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)


class BatchStore:
    """Stores batches for the event writer's thread (not thread-safe).

    StorageUnavailable: wait (backoff) and retry, until `abort` is set. A retry
    first checks whether the failed append landed after all (a lost reply), so no
    batch is stored twice. RunNotActive (the run was ended elsewhere): the batch
    is dropped and `on_closed(run_id)` is told. Any other refusal: the events are
    stored one by one, so one bad event costs only itself. Every dropped event is
    logged and counted.
    """

    def __init__(self, events: EventLog, backoff: Backoff, abort: threading.Event):
        self._events = events
        self._backoff = backoff
        self._abort = abort
        self._last_sequence: dict[RunId, int] = {}
        self.written = self.batches = self.retries = self.dropped = 0
        self.available = True
        self.on_closed: Callable[[RunId], None] | None = None

    def store(self, run_id: RunId, batch: list[NewEvent]) -> None:
        try:
            self._store(run_id, batch)
        except RunNotActive as err:
            self._drop(run_id, batch, err)
            if self.on_closed is not None:
                self.on_closed(run_id)
        except StorageUnavailable as err:
            self._drop(run_id, batch, f"gave up at shutdown: {err}")
        except DomainError as err:
            if len(batch) == 1:
                self._drop(run_id, batch, err)
                return
            for event in batch:
                self.store(run_id, [event])

    def forget(self, run_id: RunId) -> None:
        self._last_sequence.pop(run_id, None)

    def _store(self, run_id: RunId, batch: list[NewEvent]) -> None:
        delays = self._backoff.delays()
        unsure = False
        while True:
            try:
                if not (unsure and self._landed(run_id, batch)):
                    stored = self._events.append(run_id, batch)
                    self._last_sequence[run_id] = stored[-1].sequence
                break
            except StorageUnavailable as err:
                self._note_unavailable(run_id, err)
                if self._abort.wait(next(delays)):
                    raise
                unsure = True
        self.written += len(batch)
        self.batches += 1
        self.available = True

    def _landed(self, run_id: RunId, batch: Sequence[NewEvent]) -> bool:
        """Whether the log ends where this batch would have ended it, with the
        batch's last event (and, when known, at the expected sequence)."""
        info = self._events.info(run_id)
        if info is None:
            return False
        before = self._last_sequence.get(run_id)
        if before is not None and info.last_sequence != before + len(batch):
            return False
        last = self._events.read(run_id, info.last_id, info.last_id, 1)
        if not last or last[0].event != batch[-1]:
            return False
        self._last_sequence[run_id] = info.last_sequence
        return True

    def _note_unavailable(self, run_id: RunId, err: StorageUnavailable) -> None:
        self.retries += 1
        if self.available:
            logger.warning("event log unavailable (run %s); retrying: %s", run_id, err)
        self.available = False

    def _drop(self, run_id: RunId, batch: list[NewEvent], why: object) -> None:
        self.dropped += len(batch)
        logger.error("run %s: %d events not stored: %s", run_id, len(batch), why)
