"""Failback: what the fallback (SQL) took of a run while it served, copied
into the primary (Redis) with its ids and sequences."""

from __future__ import annotations

from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import LogInfo, RunId
from runstream.domain.ports import EventLog

PAGE = 1000


def copy_missing(
    primary: EventLog, fallback: EventLog, mine: LogInfo | None, run_id: RunId
) -> None:
    """Copy the fallback's events after `mine` (what the primary itself holds
    of the run; None: nothing, e.g. it restarted empty) into the primary, and
    close the run there too if the fallback closed it."""
    theirs = fallback.info(run_id)
    if theirs is None or (mine is not None and mine.last_id >= theirs.last_id):
        return
    cursor = MIN_ID if mine is None else mine.last_id.successor()
    while True:
        batch = fallback.read(run_id, cursor, MAX_ID, PAGE)
        if not batch:
            break
        primary.store(run_id, batch)
        cursor = batch[-1].id.successor()
    if theirs.closed:
        primary.finish(run_id)
