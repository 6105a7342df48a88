"""Owner leases of runs played inside the service: the port a sweeper uses to
find runs whose process is gone (docs/operations.md, "No run stays running")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from runstream.domain.model import Run, RunId


class RunLeases(Protocol):
    """Who plays a running run, and until when that is known.

    `renew` records `owner` and the lease expiry on those of `run_ids` that are
    still running (a run ended meanwhile is left alone). `lapsed` returns running
    runs played inside the service whose lease expired before `now`, or that were
    never claimed and started before `unclaimed_before`; oldest first, at most
    `limit`. Backend failures raise StorageUnavailable.
    """

    def renew(self, owner: str, run_ids: Sequence[RunId], until: datetime) -> None: ...

    def lapsed(
        self, now: datetime, unclaimed_before: datetime, limit: int = 100
    ) -> Sequence[Run]: ...
