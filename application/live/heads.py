"""The heads the hub's reader reads after, handed out as snapshots that say
what changed since the one before, so that an event log can pack its next read
from the last one instead of going over every watched run."""

from __future__ import annotations

from runstream.domain.ids import EventId
from runstream.domain.model import RunId


class HeadsSnapshot(dict[RunId, EventId]):
    """The heads at one read. `previous` is the token of the snapshot handed
    out before it; `moved` the runs whose head changed since, or None when runs
    joined or left (their order may differ). An event log may use them to redo
    only what changed (see the Redis adapter's StreamWait) or ignore them."""

    __slots__ = ("token", "previous", "moved")

    token: object
    previous: object
    moved: frozenset[RunId] | None


class RunHeads:
    """The head of every open watched run, in a stable order."""

    def __init__(self) -> None:
        self._heads: dict[RunId, EventId] = {}
        self._moved: set[RunId] | None = set()
        self._token: object = object()

    def __bool__(self) -> bool:
        return bool(self._heads)

    def set(self, run_id: RunId, head: EventId) -> None:
        if self._moved is not None and run_id in self._heads:
            self._moved.add(run_id)
        else:
            self._moved = None
        self._heads[run_id] = head

    def drop(self, run_id: RunId) -> None:
        if self._heads.pop(run_id, None) is not None:
            self._moved = None

    def snapshot(self) -> HeadsSnapshot:
        found = HeadsSnapshot(self._heads)
        found.previous, found.token = self._token, object()
        moved = self._moved
        found.moved = None if moved is None else frozenset(moved)
        self._token, self._moved = found.token, set()
        return found
