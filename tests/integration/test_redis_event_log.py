"""Redis Stream adapter behaviour beyond the contract: layout, trimming, expiry."""

from __future__ import annotations

import time

import pytest

from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.codec import stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.adapters.redis_stream.scripts import ISO_TIME
from runstream.domain.envelope import format_timestamp
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import MIN_ID
from tests.factories import completed, new_run_id, started, token
from tests.services import require_redis
from tests.support.timing import assert_within

pytestmark = pytest.mark.redis


def test_entries_carry_exactly_the_contract_fields(client, run_id):
    log = RedisStreamEventLog(client)

    stored = log.append(run_id, [started(), token("hi")])

    (bare_id, bare), (sourced_id, sourced) = client.xrange(stream_key(run_id))
    assert (bare_id, sourced_id) == (str(stored[0].id), str(stored[1].id))
    assert bare == {
        "timestamp": format_timestamp(stored[0].timestamp_ms),
        "sequence": "1",
        "event_category": "lifecycle",
        "event_action": "started",
        "data": '{"task":"t"}',
    }
    assert sourced == {
        "timestamp": format_timestamp(stored[1].timestamp_ms),
        "sequence": "2",
        "source_agent_id": "researcher",
        "source_agent_type": "worker",
        "source_agent_name": "Researcher",
        "source_team_name": "research",
        "event_category": "llm",
        "event_action": "stream",
        "data": '{"content":"hi"}',
    }


def test_the_script_writes_timestamps_as_format_timestamp_does(client):
    stamp = client.register_script(
        ISO_TIME + "local out = {} for i = 1, #ARGV do "
        "out[i] = iso_time(tonumber(ARGV[i])) end return out"
    )
    moments = [0, 999, 86_399_999, 951_782_400_000, 951_868_800_000]
    moments += [1_704_067_200_001, 4_102_444_799_999, 253_402_300_799_999]
    moments += list(range(1_709_164_800_000, 1_740_000_000_000, 987_654_321))

    written = stamp(args=moments)

    assert written == [format_timestamp(ms) for ms in moments]


def test_trimming_keeps_at_least_maxlen_newest_events(client, run_id):
    log = RedisStreamEventLog(client, maxlen=50)
    log.append(run_id, [started()])
    for _ in range(100):
        log.append(run_id, [token() for _ in range(10)])

    kept = log.read(run_id, limit=10_000)
    info = log.info(run_id)

    assert 50 <= len(kept) < 1001
    assert [e.sequence for e in kept] == list(range(1002 - len(kept), 1002))
    assert (info.first_id, info.first_sequence) == (kept[0].id, kept[0].sequence)
    assert (info.last_sequence, info.length) == (1001, len(kept))


def test_expiry_starts_exactly_when_the_run_finishes(client, run_id):
    log = RedisStreamEventLog(client, ttl_seconds=600)
    key = stream_key(run_id)
    log.append(run_id, [started(), token()])
    while_running = client.pttl(key)
    log.append(run_id, [completed()])
    after_terminal_event = client.pttl(key)

    log.finish(run_id)

    assert (while_running, after_terminal_event) == (-1, -1)
    assert 590_000 < client.pttl(key) <= 600_000


def test_a_wait_longer_than_the_socket_timeout_times_out_quietly(run_id):
    resource = redis_client(require_redis(), cluster=False, timeout=0.5)
    log = RedisStreamEventLog(next(resource))
    cursor = log.append(run_id, [started()])[-1].id
    began = time.monotonic()

    found = log.wait({run_id: cursor}, timeout=1.6)

    assert found == {}
    elapsed = time.monotonic() - began
    assert elapsed >= 1.6
    assert_within(elapsed, 1.6 + 2.0, "a 1.6 s wait on a 0.5 s socket timeout")
    resource.close()


def test_a_key_of_another_type_makes_the_log_unavailable(client, run_id):
    client.set(stream_key(run_id), "not a stream")
    log = RedisStreamEventLog(client)

    with pytest.raises(StorageUnavailable):
        log.append(run_id, [started()])
    with pytest.raises(StorageUnavailable):
        log.read(run_id)


def test_a_malformed_entry_makes_the_log_unavailable(client, run_id):
    client.xadd(stream_key(run_id), {"sequence": "1", "note": "foreign tooling"})
    log = RedisStreamEventLog(client)

    with pytest.raises(StorageUnavailable):
        log.read(run_id)


def test_one_log_waits_right_as_its_runs_and_cursors_change(client):
    """The wait keeps each run's key and cursor packed between calls; a moved
    cursor, a run dropped and a run added must each be read afresh."""
    log = RedisStreamEventLog(client)
    first, second, third = new_run_id(), new_run_id(), new_run_id()
    try:
        a1, a2 = log.append(first, [token("a1"), token("a2")])
        (b1,) = log.append(second, [token("b1")])
        assert log.wait({first: MIN_ID, second: MIN_ID}, 0) == {
            first: [a1, a2],
            second: [b1],
        }
        assert log.wait({first: a1.id, second: b1.id}, 0) == {first: [a2]}
        assert log.wait({first: a2.id, second: b1.id}, 0) == {}
        (c1,) = log.append(third, [token("c1")])
        (b2,) = log.append(second, [token("b2")])
        assert log.wait({second: b1.id, third: MIN_ID}, 0) == {
            second: [b2],
            third: [c1],
        }
        assert log.wait({first: a1.id}, 0) == {first: [a2]}
    finally:
        for run_id in (first, second, third):
            client.delete(stream_key(run_id))
