"""Reads while Redis trims what a reader needs: a hot window trimmed past what
the archive copied never shows as a hole in a read of the archived composite
(seen once under load: a whole-run history of sequences 1-12, then 285 on), and
a filtered replay of a trimmed Redis log tells the gap."""

from __future__ import annotations

from dataclasses import replace

import pytest

from runstream.adapters.redis_stream.codec import stream_key
from runstream.application.event_selection import EventSelection
from runstream.application.follow_part import FollowRunPart
from runstream.application.follow_run import FollowRun, Gap, Idle
from runstream.application.run_part import RunPart
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import RunStatus
from tests.factories import completed, new_run_id, run, started, token
from tests.services import require_redis
from tests.support.held_archive import HeldArchive
from tests.support.redis_backend import _client, redis_log_backend
from tests.support.sql_backend import sqlite_log_backend
from tests.support.tiered_backend import archived

pytestmark = pytest.mark.redis


@pytest.fixture
def lagging():
    """A run of 11 events whose last 5 the archive has not copied, and a hot
    window trimmed to its last 2 (Redis's MAXLEN trimming ahead of the archive)."""
    redis = _client(require_redis())
    hot, cold = redis_log_backend(), sqlite_log_backend()
    archive = HeldArchive(cold.make())
    log = archived(hot.make(), archive)
    run_id = new_run_id()
    stored = log.append(run_id, [started(), *[token(f"t{i}") for i in range(5)]])
    assert log.archiver.flush()
    archive.released.clear()
    stored += log.append(run_id, [token(f"u{i}") for i in range(5)])
    redis.xtrim(stream_key(run_id), minid=str(stored[-2].id), approximate=False)
    yield log, archive, run_id, stored, (hot, cold)
    archive.released.set()


def test_a_read_across_what_the_archive_has_not_copied_yet_waits_for_it(lagging):
    log, archive, run_id, stored, _ = lagging
    archive.release_on_read = True

    assert log.read(run_id) == stored


def test_a_selected_read_across_it_waits_for_it_too(lagging):
    log, archive, run_id, stored, _ = lagging
    archive.release_on_read = True

    agents = frozenset({"researcher"})
    found = log.read_selected(run_id, MIN_ID, MAX_ID, 100, agents, frozenset())

    assert found == [e for e in stored if e.event.source is not None]


def test_another_process_never_reads_a_hole_where_its_archive_lags(lagging):
    _, _, run_id, stored, (hot, cold) = lagging
    other = archived(hot.make(), cold.make())

    with pytest.raises(StorageUnavailable):
        other.read(run_id)
    with pytest.raises(StorageUnavailable):
        other.read_selected(
            run_id, MIN_ID, MAX_ID, 100, frozenset({"researcher"}), frozenset()
        )
    assert other.read(run_id, MIN_ID, MAX_ID, 3) == stored[:3]  # within the archive


class OneFinishedRun:
    def __init__(self, run_id):
        self._run = replace(run(), id=run_id, status=RunStatus.COMPLETED)

    def get(self, run_id):
        assert run_id == self._run.id
        return self._run


class TrimmedWhileRead:
    """A Redis log whose stream is trimmed to its last `keep` entries as the
    first selected read begins (after the replay saw the run whole in `info`)."""

    def __init__(self, log, redis, keep):
        self.log, self._redis, self._keep = log, redis, keep

    def __getattr__(self, name):
        return getattr(self.log, name)

    def read_selected(self, run_id, *args):
        if self._keep is not None:
            key = stream_key(run_id)
            self._redis.xtrim(key, maxlen=self._keep, approximate=False)
            self._keep = None
        return self.log.read_selected(run_id, *args)


def test_a_filtered_replay_trimmed_while_read_tells_the_gap_and_skips_nothing():
    redis = _client(require_redis())
    log = TrimmedWhileRead(redis_log_backend().make(), redis, keep=4)
    run_id = new_run_id()
    stored = log.append(
        run_id,
        [started(), *[token(f"t{i}", ("alpha", "beta")[i % 2]) for i in range(9)]],
    )
    stored += log.append(run_id, [completed()])
    part = RunPart(EventSelection.parse(["alpha"], []))
    runs = OneFinishedRun(run_id)
    follow = FollowRunPart(lambda live: FollowRun(runs, log, live), log)

    items = [
        item
        for item in follow.execute(run_id, None, part, idle_seconds=0.05)
        if not isinstance(item, Idle)
    ]

    assert items[0] == Gap(None, stored[-4].id)
    assert items[1:] == [e for e in stored[-4:] if part.selection.keeps(e)]


def test_a_read_reaching_the_end_of_the_redis_copy_gets_what_the_archive_holds_after():
    """Events another tier stored (the SQL fallback during an outage) are read
    from the archive even right after this process last read the archive's
    head (seen under load: a history ending before the run's terminal event)."""
    sql = sqlite_log_backend().make()
    log = archived(redis_log_backend().make(), sql)
    run_id = new_run_id()
    stored = log.append(run_id, [started(), token("a")])
    assert log.archiver.flush()
    assert log.read(run_id) == stored

    later = sql.append(run_id, [token("b"), completed()])

    assert log.read(run_id) == stored + later


def test_a_selected_read_reaching_the_end_of_the_redis_copy_gets_them_too():
    sql = sqlite_log_backend().make()
    log = archived(redis_log_backend().make(), sql)
    run_id = new_run_id()
    stored = log.append(run_id, [started(), token("a")])
    assert log.archiver.flush()
    everyone = frozenset({"researcher"})
    assert log.read_selected(run_id, MIN_ID, MAX_ID, 100, everyone, frozenset())

    later = sql.append(run_id, [token("b"), completed()])

    found = log.read_selected(run_id, MIN_ID, MAX_ID, 100, everyone, frozenset())
    assert found == [e for e in stored + later if e.event.source is not None] + [
        e for e in later if e.event.source is None
    ]
