"""RunHeads: snapshots of the hub's heads that say what moved since the last."""

from __future__ import annotations

from runstream.application.live.heads import RunHeads
from runstream.domain.ids import EventId


def test_a_snapshot_names_the_runs_whose_head_moved_since_the_one_before():
    heads = RunHeads()
    heads.set(1, EventId(1, 0))
    heads.set(2, EventId(2, 0))
    first = heads.snapshot()
    heads.set(2, EventId(3, 0))

    second = heads.snapshot()

    assert second == {1: EventId(1, 0), 2: EventId(3, 0)}
    assert second.previous is first.token and second.moved == {2}
    assert heads.snapshot().moved == frozenset()


def test_a_run_joining_or_leaving_leaves_what_moved_unknown():
    heads = RunHeads()
    heads.set(1, EventId(1, 0))
    heads.snapshot()
    heads.set(2, EventId(2, 0))
    assert heads.snapshot().moved is None

    heads.drop(1)
    heads.drop(7)  # not watched: nothing changes
    left = heads.snapshot()

    assert left == {2: EventId(2, 0)} and left.moved is None
    heads.drop(7)
    assert heads.snapshot().moved == frozenset()
    assert not RunHeads()
