"""Periodic clean-up the service runs in the background."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runstream.application.periodic import Periodic

if TYPE_CHECKING:
    from runstream.adapters.mysql_legacy.event_log import SqlEventLog

EXPIRY_SWEEP_SECONDS = 60.0
_EXPIRED_PER_ROUND = 100


def sql_expiry_sweeper(
    log: SqlEventLog, interval: float = EXPIRY_SWEEP_SECONDS
) -> Periodic:
    """Deletes the SQL event log's expired logs (its reads never do)."""

    def sweep() -> None:
        while log.purge_expired(_EXPIRED_PER_ROUND) == _EXPIRED_PER_ROUND:
            pass

    return Periodic("sql-log-expiry", interval, sweep)
