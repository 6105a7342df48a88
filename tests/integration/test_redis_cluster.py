"""Every single-run operation touches one key, so a Redis Cluster serves it as is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis.exceptions import RedisClusterException

from runstream.adapters.redis_stream.client import Client, redis_client
from runstream.adapters.redis_stream.codec import stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.model import StoredEvent
from tests.factories import completed, new_run_id, started, token
from tests.support.redis_server import RedisServer, free_port

pytestmark = pytest.mark.redis


@pytest.fixture
def cluster_client() -> Iterator[Client]:
    with RedisServer(cluster=True) as server:
        resource = redis_client(server.url, cluster=True, timeout=2.0)
        yield next(resource)
        resource.close()


def test_the_log_runs_unchanged_on_a_single_node_cluster(cluster_client):
    log = RedisStreamEventLog(cluster_client, ttl_seconds=60)

    stored = log.append(1, [started(), token(), completed()])
    copied = log.store(
        2, [StoredEvent(e.id, 2, e.sequence, 0, e.event) for e in stored]
    )
    news = log.wait({1: stored[0].id}, timeout=1)
    log.finish(1)

    assert log.read(1) == stored
    assert (copied, [e.sequence for e in log.read(2)]) == (3, [1, 2, 3])
    assert news == {1: stored[1:]}
    assert log.info(1).closed
    assert 0 < cluster_client.ttl(stream_key(1)) <= 60


def test_a_process_finds_the_cluster_through_a_later_seed_when_the_first_is_down():
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    with RedisServer(cluster=True) as server:
        for seeds in (f"{nobody},{server.url}", f"{nobody}, 127.0.0.1:{server.port}"):
            resource = redis_client(seeds, cluster=True, timeout=2.0)
            log = RedisStreamEventLog(next(resource), ttl_seconds=60)
            run_id = new_run_id()
            stored = log.append(run_id, [started()])
            assert log.read(run_id) == stored
            resource.close()


def test_with_every_seed_down_the_client_cannot_be_built():
    resource = redis_client(
        f"redis://127.0.0.1:{free_port()}/0", cluster=True, timeout=0.5
    )
    with pytest.raises(RedisClusterException):
        next(resource)
