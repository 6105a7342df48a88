"""One archiver tick: every run's queued events copied into the archive, all
runs in one transaction when the archive can (`RunsCopier`), then the repairs
and finishes the runs asked for."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from runstream.domain.errors import DomainError, InvalidRequest, StorageUnavailable
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)
PAGE = 1000
# Rows per transaction: a tick with more is copied in several.
ROWS_PER_TRANSACTION = 5000
# How long queued events that the hot log lost wait for the gap before them
# (another process's archive may still queue it) before they are given up.
GAP_SECONDS = 15.0


@dataclass(frozen=True)
class TickWork:
    """What a tick does for one run: copy `events` (queued since `started`),
    or repair the run from the hot log when `dirty`; then finish it in the
    archive when `finishing`."""

    events: list[StoredEvent]
    started: float
    dirty: bool = False
    finishing: bool = False


Tick = dict[RunId, TickWork]


@runtime_checkable
class RunsCopier(Protocol):
    """An archive that stores many runs' events in one transaction."""

    def store_runs(
        self, batches: Mapping[RunId, Sequence[StoredEvent]]
    ) -> Mapping[RunId, int | DomainError]: ...


def copy_tick(
    hot: EventLog,
    archive: EventLog,
    tick: Tick,
    on_finished: Callable[[RunId], None],
    counts: collections.Counter[str],
    gaps: dict[RunId, float],
) -> Tick:
    """Do the tick; what is left to do again later (the archive unavailable).

    A batch that does not continue the archive (InvalidRequest) is repaired
    from the hot log, and its events the hot log no longer has are kept
    (`_keep`, the first gap's time in `gaps`); any other refusal is logged and
    counted, for good. A run is finished in the archive, then `on_finished`,
    once all of it is archived."""
    clean = {r: w.events for r, w in tick.items() if w.events and not w.dirty}
    try:
        copied = _copy(archive, clean)
    except StorageUnavailable as err:
        counts["errors"] += 1
        logger.warning("archiving %d runs failed, will retry: %s", len(tick), err)
        return dict(tick)
    counts["archived"] += sum(n for n in copied.values() if isinstance(n, int))
    left: Tick = {}
    for run_id, work in tick.items():
        outcome = copied.get(run_id, 0)
        repair = work.dirty or isinstance(outcome, InvalidRequest)
        if isinstance(outcome, DomainError) and not repair:
            counts["errors"] += 1
            logger.error("archiving run %s failed for good: %s", run_id, outcome)
        try:
            if repair:
                _repair(hot, archive, run_id, counts)
                if work.events:
                    _keep(archive, run_id, work.events, gaps, counts)
            if work.finishing:
                archive.finish(run_id)
                on_finished(run_id)
        except StorageUnavailable as err:
            counts["errors"] += 1
            logger.warning("archiving run %s failed, will retry: %s", run_id, err)
            kept = work.events if repair else []
            left[run_id] = replace(work, events=kept, dirty=repair)
        except DomainError:
            counts["errors"] += 1
            logger.exception("archiving run %s failed for good", run_id)
    return left


def _copy(
    archive: EventLog, batches: dict[RunId, list[StoredEvent]]
) -> dict[RunId, int | DomainError]:
    """Each run's count of new events, or the DomainError that refused its
    batch; a run refused in one transaction is left out of the next ones."""
    copied: dict[RunId, int | DomainError] = {}
    for chunk in _chunks(batches):
        chunk = {r: events for r, events in chunk.items() if _fine(copied.get(r))}
        if isinstance(archive, RunsCopier):
            found = dict(archive.store_runs(chunk))
        else:
            found = {r: _store_one(archive, r, events) for r, events in chunk.items()}
        for run_id, outcome in found.items():
            before = copied.get(run_id, 0)
            both = isinstance(outcome, int) and isinstance(before, int)
            copied[run_id] = before + outcome if both else outcome  # type: ignore[operator]
    return copied


def _fine(outcome: int | DomainError | None) -> bool:
    return not isinstance(outcome, DomainError)


def _store_one(
    archive: EventLog, run_id: RunId, events: list[StoredEvent]
) -> int | DomainError:
    try:
        return archive.store(run_id, events)
    except StorageUnavailable:
        raise
    except DomainError as err:
        return err


def _chunks(
    batches: dict[RunId, list[StoredEvent]],
) -> list[dict[RunId, list[StoredEvent]]]:
    """The batches in transactions of at most ROWS_PER_TRANSACTION events and
    PAGE per run, each run's events in order across them."""
    chunks: list[dict[RunId, list[StoredEvent]]] = []
    offsets = dict.fromkeys(batches, 0)
    while offsets:
        chunk: dict[RunId, list[StoredEvent]] = {}
        room = ROWS_PER_TRANSACTION
        for run_id, start in list(offsets.items()):
            if room <= 0:
                break
            page = batches[run_id][start : start + min(PAGE, room)]
            chunk[run_id] = page
            room -= len(page)
            if start + len(page) >= len(batches[run_id]):
                del offsets[run_id]
            else:
                offsets[run_id] = start + len(page)
        chunks.append(chunk)
    return chunks


def _repair(
    hot: EventLog, archive: EventLog, run_id: RunId, counts: collections.Counter[str]
) -> None:
    """Copy whatever the archive lacks of the run from the hot log."""
    counts["repairs"] += 1
    info = archive.info(run_id)
    cursor = MIN_ID if info is None else info.last_id.successor()
    while True:
        batch = hot.read(run_id, cursor, MAX_ID, PAGE)
        if not batch:
            return
        counts["archived"] += archive.store(run_id, batch)
        cursor = batch[-1].id.successor()


def _keep(
    archive: EventLog,
    run_id: RunId,
    events: list[StoredEvent],
    gaps: dict[RunId, float],
    counts: collections.Counter[str],
) -> None:
    """Store queued events the repair could not take from the hot log (it lost
    them): each unbroken stretch on its own, since another process's queue may
    wait for the first while this one waits for a later gap. A gap before them
    is waited for (StorageUnavailable: the tick keeps them) up to GAP_SECONDS,
    then the events are given up (InvalidRequest, logged)."""
    ordered = sorted({e.id: e for e in events}.values(), key=lambda e: e.id)
    try:
        start = 0
        for end in range(1, len(ordered) + 1):
            if end == len(ordered) or (
                ordered[end].sequence != ordered[end - 1].sequence + 1
            ):
                counts["archived"] += archive.store(run_id, ordered[start:end])
                start = end
    except InvalidRequest as err:
        since = gaps.setdefault(run_id, time.monotonic())
        if time.monotonic() - since < GAP_SECONDS:
            raise StorageUnavailable(f"{err}; waiting for the gap") from err
        del gaps[run_id]
        raise
    gaps.pop(run_id, None)
