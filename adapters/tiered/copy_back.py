"""Failback: what the fallback (SQL) took of a run while it served, copied
into the primary (Redis) with its ids and sequences."""

from __future__ import annotations

import logging

from runstream.adapters.tiered.authority import Rewindable
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import LogInfo, RunId
from runstream.domain.ports import EventLog

PAGE = 1000
# How far before the primary's last event a write's lost reply can lie: the
# writes in flight when the fleet left Redis (a few seconds at most).
DIVERGENCE_MS = 60_000
logger = logging.getLogger(__name__)


def copy_missing(
    primary: EventLog, fallback: EventLog, mine: LogInfo | None, run_id: RunId
) -> None:
    """Copy the fallback's events after `mine` (what the primary itself holds
    of the run; None: nothing, e.g. it restarted empty) into the primary, and
    close the run there too if the fallback closed it."""
    theirs = fallback.info(run_id)
    if theirs is None or (mine is not None and mine.last_id >= theirs.last_id):
        return
    cursor = MIN_ID if mine is None else _common(primary, fallback, mine, run_id)
    while True:
        batch = fallback.read(run_id, cursor, MAX_ID, PAGE)
        if not batch:
            break
        primary.store(run_id, batch)
        cursor = batch[-1].id.successor()
    if theirs.closed:
        primary.finish(run_id)


def _common(
    primary: EventLog, fallback: EventLog, mine: LogInfo, run_id: RunId
) -> EventId:
    """Where the fallback's tail continues the primary: after the primary's
    last event when the fallback holds it too. Otherwise the primary stored a
    write whose reply was lost (Redis shut down or the link broke after the
    script ran), and the fallback answered that write instead: every event the
    primary holds after the last one the fallback also holds was never
    acknowledged, and goes (`rewind`), so the fallback's acknowledged events
    take their sequences (seen as 'does not continue the log' on failback)."""
    if fallback.read(run_id, mine.last_id, mine.last_id, 1):
        return mine.last_id.successor()
    common = _last_before(fallback, run_id, mine.last_id)
    if not isinstance(primary, Rewindable) or common is None:
        return mine.last_id.successor()  # nothing known in common: as before
    if not primary.read(run_id, common, common, 1):
        return mine.last_id.successor()
    gone = primary.rewind(run_id, common)
    logger.warning(
        "run %s: %d event(s) Redis stored for writes answered by SQL removed "
        "on failback (never acknowledged)",
        run_id,
        gone,
    )
    return common.successor()


def _last_before(log: EventLog, run_id: RunId, bound: EventId) -> EventId | None:
    """The id of `log`'s last event of the run up to `bound`, looked for in
    the DIVERGENCE_MS before it."""
    cursor, last = EventId(max(bound.ms - DIVERGENCE_MS, 0), 0), None
    while page := log.read(run_id, cursor, bound, PAGE):
        last = page[-1].id
        if len(page) < PAGE:
            break
        cursor = last.successor()
    return last
