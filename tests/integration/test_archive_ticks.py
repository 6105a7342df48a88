"""The archiver's ticks: many runs copied into the SQL archive in one
transaction, each run in order, a run that does not continue the archive
repaired from the hot log without holding the others back."""

from __future__ import annotations

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.adapters.tiered.archiver import Archiver
from runstream.domain.errors import InvalidRequest
from tests.factories import completed, new_run_id, started, token
from tests.support.sql_backend import session_engine

KINDS = [pytest.param("mysql", marks=pytest.mark.mysql), "sqlite"]


@pytest.mark.parametrize("kind", KINDS)
def test_store_runs_copies_every_run_and_refuses_only_the_gapped_one(kind):
    hot, archive = InMemoryEventLog(), SqlEventLog(session_engine(kind))
    runs = [new_run_id() for _ in range(3)]
    stored = {r: hot.append(r, [started(), token("a"), token("b")]) for r in runs}
    gapped = runs[1]

    copied = archive.store_runs(
        {runs[0]: stored[runs[0]], gapped: stored[gapped][1:], runs[2]: stored[runs[2]]}
    )

    assert copied[runs[0]] == copied[runs[2]] == 3
    assert isinstance(copied[gapped], InvalidRequest)
    assert archive.read(runs[0]) == stored[runs[0]]
    assert archive.read(runs[2]) == stored[runs[2]]
    assert archive.read(gapped) == []


@pytest.mark.parametrize("kind", KINDS)
def test_store_runs_skips_what_the_archive_has_and_copies_nothing_twice(kind):
    hot, archive = InMemoryEventLog(), SqlEventLog(session_engine(kind))
    open_run, closed_run = new_run_id(), new_run_id()
    first = hot.append(open_run, [started(), token("a")])
    more = hot.append(open_run, [token("b")])
    ended = hot.append(closed_run, [started(), completed()])
    archive.store(open_run, first)
    archive.store(closed_run, ended)

    copied = archive.store_runs(
        {open_run: [*first, *more], closed_run: [*ended, *ended]}
    )

    assert copied[open_run] == 1
    assert copied[closed_run] == 0
    assert archive.read(open_run) == [*first, *more]
    assert archive.info(open_run).last_sequence == 3


@pytest.mark.parametrize("kind", KINDS)
def test_the_archiver_copies_many_runs_in_order_and_finishes_them(kind):
    hot, archive = InMemoryEventLog(), SqlEventLog(session_engine(kind))
    finished: list[int] = []
    archiver = Archiver(hot, archive, on_finished=finished.append)
    runs = [new_run_id() for _ in range(20)]
    try:
        for r in runs:
            archiver.add(r, hot.append(r, [started()]))
        for n in range(30):
            for r in runs:
                archiver.add(r, hot.append(r, [token(f"t{n}")]))
        for r in runs:
            archiver.add(r, hot.append(r, [completed()]))
            archiver.finish(r)

        assert archiver.flush(timeout=30)
        assert sorted(finished) == sorted(runs)
        for r in runs:
            assert archive.read(r) == hot.read(r)
        assert archiver.stats().archived_events == 20 * 32
    finally:
        assert archiver.stop(timeout=10)


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_past_the_queue_capacity_is_repaired_from_the_hot_log(kind):
    hot, archive = InMemoryEventLog(), SqlEventLog(session_engine(kind))
    archiver = Archiver(hot, archive, on_finished=lambda _r: None, capacity=5)
    small, big = new_run_id(), new_run_id()
    try:
        archiver.add(small, hot.append(small, [started(), token()]))
        archiver.add(big, hot.append(big, [started(), *[token()] * 9]))

        assert archiver.flush(timeout=30)
        assert archive.read(small) == hot.read(small)
        assert archive.read(big) == hot.read(big)
        assert archiver.stats().repairs >= 1
    finally:
        assert archiver.stop(timeout=10)


def test_an_archive_without_store_runs_is_copied_run_by_run():
    hot, archive = InMemoryEventLog(), InMemoryEventLog()
    finished: list[int] = []
    archiver = Archiver(hot, archive, on_finished=finished.append)
    runs = [new_run_id() for _ in range(3)]
    try:
        for r in runs:
            archiver.add(r, hot.append(r, [started(), token("a")]))
        archive.store(runs[1], hot.read(runs[1]))  # already there: skipped
        for r in runs:
            archiver.add(r, hot.append(r, [completed()]))
            archiver.finish(r)

        assert archiver.flush(timeout=30)
        assert sorted(finished) == sorted(runs)
        assert all(archive.read(r) == hot.read(r) for r in runs)
    finally:
        assert archiver.stop(timeout=10)
