"""The key index of a run's stream (scripts.py): a keyed append is checked in
O(1) in Redis, and the archive is asked only when the index cannot vouch for
a key — Redis lost or re-seeded the run, or trimmed the key's events."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from runstream.adapters.redis_stream.codec import key_index, stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.adapters.redis_stream.scripts import KEY_INDEX_LIMIT
from runstream.adapters.tiered.archived_log import ArchivedEventLog
from runstream.adapters.tiered.archiver import Archiver
from runstream.domain.errors import IdempotencyKeyReused
from runstream.domain.model import Idempotency, LogInfo, RunId, StoredEvent
from tests.factories import new_run_id, started, token
from tests.services import require_redis
from tests.support.redis_backend import _client, redis_log_backend
from tests.support.sql_backend import sqlite_log_backend

pytestmark = pytest.mark.redis


class CountedArchive:
    """The SQL log, counting the questions an append asks it."""

    def __init__(self, log):
        self._log = log
        self.asked = 0

    def __getattr__(self, name):
        return getattr(self._log, name)

    def info(self, run_id: RunId) -> LogInfo | None:
        self.asked += 1
        return self._log.info(run_id)

    def keyed_batch(self, run_id: RunId, key: str, size: int) -> list[StoredEvent]:
        self.asked += 1
        return self._log.keyed_batch(run_id, key, size)


def archived_pair():
    hot, cold = redis_log_backend().make(), CountedArchive(sqlite_log_backend().make())
    log = ArchivedEventLog(hot, cold, Archiver(hot, cold, on_finished=hot.finish))
    return log, cold


def sequences(events: Sequence[StoredEvent]) -> list[int]:
    return [e.sequence for e in events]


@pytest.fixture
def redis():
    return _client(require_redis())


def test_keyed_appends_to_a_known_run_ask_the_archive_nothing(redis):
    log, archive = archived_pair()
    run_id = new_run_id()
    log.append(run_id, [started()])
    first = log.append(run_id, [token("a")], Idempotency("a", "d1"))
    asked = archive.asked

    second = log.append(run_id, [token("b")], Idempotency("b", "d2"))
    again = log.append(run_id, [token("a")], Idempotency("a", "d1"))

    assert archive.asked == asked
    assert sequences(second) == [3]
    assert again.replayed and list(again) == list(first)
    assert redis.hget(key_index(run_id), "a") == str(first[0].id)
    assert redis.hget(key_index(run_id), "") == "1"


def test_a_retry_after_redis_restarted_empty_is_answered_from_the_archive(redis):
    log, _archive = archived_pair()
    run_id = new_run_id()
    log.append(run_id, [started()])
    request = Idempotency("token-1", "digest")
    first = log.append(run_id, [token("a"), token("b")], request)
    assert log.archiver.flush()
    redis.delete(stream_key(run_id), key_index(run_id))  # what an empty restart does

    again = log.append(run_id, [token("a"), token("b")], request)
    later = log.append(run_id, [token("c")], Idempotency("token-2", "digest"))

    assert again.replayed and list(again) == list(first)
    assert sequences(later) == [4]
    assert sequences(log.read(run_id)) == [1, 2, 3, 4]
    with pytest.raises(IdempotencyKeyReused):
        log.append(run_id, [token("x")], Idempotency("token-1", "another"))


def test_a_reseeded_stream_keeps_asking_the_archive_for_keys_it_lacks(redis):
    log, _archive = archived_pair()
    run_id = new_run_id()
    log.append(run_id, [started()])
    first = log.append(run_id, [token("a")], Idempotency("early", "d"))
    log.append(run_id, [token("b")], Idempotency("later", "d"))
    assert log.archiver.flush()
    redis.delete(stream_key(run_id), key_index(run_id))
    log.append(run_id, [token("c")], Idempotency("after", "d"))  # re-seeds

    again = log.append(run_id, [token("a")], Idempotency("early", "d"))

    assert redis.hget(key_index(run_id), "") is None
    assert again.replayed and list(again) == list(first)
    assert sequences(log.read(run_id)) == [1, 2, 3, 4]


def test_events_copied_back_into_the_stream_teach_the_index_their_keys(redis):
    log, _archive = archived_pair()
    run_id = new_run_id()
    log.append(run_id, [started()])
    log.append(run_id, [token("a")], Idempotency("a", "d"))
    lost = log.append(run_id, [token("b")], Idempotency("b", "d"))
    assert log.archiver.flush()
    # A lagging replica promoted: the stream and its index lack the last batch.
    kept = redis.xrange(stream_key(run_id))[:-1]
    redis.delete(stream_key(run_id))
    for entry_id, fields in kept:
        redis.xadd(stream_key(run_id), fields, id=entry_id)
    redis.hdel(key_index(run_id), "b")

    again = log.append(run_id, [token("b")], Idempotency("b", "d"))

    assert again.replayed and list(again) == list(lost)
    assert redis.hget(key_index(run_id), "b") == str(lost[0].id)
    assert sequences(log.read(run_id)) == [1, 2, 3]


def test_a_stream_kept_from_its_start_indexes_its_keys_on_the_first_keyed_append(
    redis,
):
    log = RedisStreamEventLog(redis)
    run_id = new_run_id()
    log.append(run_id, [started()])
    first = log.append(run_id, [token("a")], Idempotency("a", "d"))
    redis.delete(key_index(run_id))  # as written before the index existed

    again = log.append(run_id, [token("a")], Idempotency("a", "d"))
    other = log.append(run_id, [token("b")], Idempotency("b", "d"))

    assert again.replayed and list(again) == list(first)
    assert sequences(other) == [3]
    assert redis.hgetall(key_index(run_id)) == {
        "": "1",
        "a": str(first[0].id),
        "b": str(other[0].id),
    }


def test_alone_a_key_whose_entry_was_trimmed_is_stored_again_as_before(redis):
    log = RedisStreamEventLog(redis)
    run_id = new_run_id()
    log.append(run_id, [started()])
    first = log.append(run_id, [token("a")], Idempotency("a", "d"))
    log.append(run_id, [token("b")])
    redis.xtrim(
        stream_key(run_id), minid=str(first[0].id.successor()), approximate=False
    )

    again = log.append(run_id, [token("a")], Idempotency("a", "d"))

    assert not again.replayed and sequences(again) == [4]


def test_the_index_expires_with_the_stream(redis):
    log = RedisStreamEventLog(redis, ttl_seconds=60)
    run_id = new_run_id()
    log.append(run_id, [started()])
    log.append(run_id, [token("a")], Idempotency("a", "d"))

    log.finish(run_id)

    assert 0 < redis.pttl(key_index(run_id)) <= 60_000


def test_an_index_at_its_limit_stops_vouching_and_keys_are_searched_for(redis):
    log = RedisStreamEventLog(redis)
    run_id = new_run_id()
    log.append(run_id, [started()])
    filler = {"": "1"} | {f"old-{n}": "1-0" for n in range(KEY_INDEX_LIMIT - 1)}
    redis.hset(key_index(run_id), mapping=filler)

    first = log.append(run_id, [token("a")], Idempotency("past-the-limit", "d"))
    again = log.append(run_id, [token("a")], Idempotency("past-the-limit", "d"))

    assert redis.hget(key_index(run_id), "") is None
    assert redis.hget(key_index(run_id), "past-the-limit") is None
    assert again.replayed and list(again) == list(first)
