"""Every single-run operation touches one key, so a Redis Cluster serves it as is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.redis_stream.client import Client, redis_client
from adapters.redis_stream.codec import stream_key
from adapters.redis_stream.event_log import RedisStreamEventLog
from domain.model import StoredEvent
from tests.factories import completed, started, token
from tests.support.redis_server import RedisServer

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
