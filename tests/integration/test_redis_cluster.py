"""Every single-run operation touches one key, so a Redis Cluster serves it as is."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis

from adapters.redis_stream.client import Client, redis_client
from adapters.redis_stream.codec import stream_key
from adapters.redis_stream.event_log import RedisStreamEventLog
from domain.model import StoredEvent
from tests.factories import completed, started, token
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis

CLUSTER_CONFIG = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")


def _serve_every_slot(url: str) -> None:
    with Redis.from_url(url, decode_responses=True) as node:
        node.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.monotonic() + 10
        while "cluster_state:ok" not in node.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "the one-node cluster never got ready"
            time.sleep(0.02)


@pytest.fixture
def cluster_client() -> Iterator[Client]:
    with RedisServer(config=CLUSTER_CONFIG) as server:
        _serve_every_slot(server.url)
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
