"""Replica-wait on a lone Redis with one replica: an append is acknowledged only
once the replica has it, and a replica that does not answer makes it fail."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis

from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.codec import stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.errors import StorageUnavailable
from tests.factories import new_run_id, started, token
from tests.support.redis_server import RedisServer
from tests.support.timing import assert_within

pytestmark = pytest.mark.redis


@pytest.fixture
def pair() -> Iterator[tuple[RedisServer, RedisServer]]:
    with RedisServer() as master:
        replica_of = ("--replicaof", "127.0.0.1", str(master.port))
        with RedisServer(config=replica_of) as replica:
            _await_link(replica)
            yield master, replica


def _await_link(replica: RedisServer) -> None:
    with Redis(port=replica.port, decode_responses=True) as client:
        deadline = time.monotonic() + 10
        while client.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica never synced"
            time.sleep(0.01)


def test_an_acknowledged_append_is_already_on_the_replica(pair):
    master, replica = pair
    resource = redis_client(master.url, timeout=2.0)
    log = RedisStreamEventLog(next(resource), min_replicas=1)
    run_id = new_run_id()

    stored = log.append(run_id, [started(), token()])

    with Redis(port=replica.port, decode_responses=True) as direct:
        copied = [entry_id for entry_id, _ in direct.xrange(stream_key(run_id))]
    assert copied == [str(event.id) for event in stored]
    resource.close()


def test_a_frozen_replica_makes_appends_unavailable_within_the_replica_timeout(pair):
    master, replica = pair
    resource = redis_client(master.url, timeout=2.0)
    client = next(resource)
    log = RedisStreamEventLog(client, min_replicas=1, replica_timeout_ms=300)
    run_id = new_run_id()
    # The run's start is not waited for: on a loaded machine a live replica can
    # take longer than 0.3 s to confirm, which is not what this test is about.
    RedisStreamEventLog(client).append(run_id, [started()])
    replica.freeze()
    began = time.monotonic()

    with pytest.raises(StorageUnavailable, match="only 0 of 1 replicas"):
        log.append(run_id, [token()])
    elapsed = time.monotonic() - began
    replica.thaw()

    assert elapsed >= 0.3
    assert_within(elapsed, 5.0, "a refusal after the 0.3 s replica timeout")
    resource.close()


def test_a_replica_timeout_as_long_as_the_socket_timeout_is_refused():
    resource = redis_client("redis://127.0.0.1:1/0", timeout=0.5)

    with pytest.raises(ValueError, match="shorter than the socket timeout"):
        RedisStreamEventLog(next(resource), min_replicas=1, replica_timeout_ms=500)
    resource.close()
