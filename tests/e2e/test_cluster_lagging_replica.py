"""A lagging replica promoted on a Redis Cluster without replica-wait
(`RUNSTREAM_REDIS_MIN_REPLICAS=0`): the run's stream goes back to an older state,
and the service notices it, copies the events it lost back from the SQL archive,
and continues the sequence; the history keeps every acknowledged event."""

from __future__ import annotations

import time

import pytest
import requests
from redis import Redis

from runstream.adapters.redis_stream.codec import stream_key
from tests.support.live_server import LiveServer
from tests.support.redis_cluster import LocalCluster, cluster_service_env
from tests.support.redis_server import RedisServer
from tests.support.tiers_harness import history

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.slow]


def tokens(count: int) -> dict[str, list[dict[str, object]]]:
    return {
        "events": [
            {"event": {"category": "llm", "action": "stream"}, "data": {"n": n}}
            for n in range(count)
        ]
    }


def stop_replicating(replica: RedisServer) -> None:
    """The replica loses its link to the master and cannot get it back (its
    replication user does not exist), so it lags behind every later write."""
    client = Redis(port=replica.port, single_connection_client=True)
    client.config_set("masteruser", "nobody")
    client.config_set("masterauth", "wrong")
    client.execute_command("CLIENT", "KILL", "TYPE", "master")
    client.close()


def append_until_accepted(url: str, run_id: int) -> requests.Response:
    """Like a producer: retried with its Idempotency-Key while the cluster fails
    over (503)."""
    deadline = time.monotonic() + 60
    while True:
        answer = requests.post(
            f"{url}/runs/{run_id}/events",
            json=tokens(1),
            headers={"Idempotency-Key": "after-failover"},
            timeout=10,
        )
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def test_a_promoted_lagging_replica_loses_nothing_the_archive_holds():
    with (
        LocalCluster(masters=3, replicas=1, node_timeout_ms=1000) as cluster,
        cluster_service_env(cluster) as env,
    ):
        env |= {"RUNSTREAM_EVENT_ARCHIVE": "sql", "RUNSTREAM_REDIS_MIN_REPLICAS": "0"}
        live = LiveServer(env)
        try:
            url = live.url
            run_id = requests.post(
                f"{url}/runs", json={"task": "t", "executor": "external"}
            ).json()["id"]
            requests.post(f"{url}/runs/{run_id}/events", json=tokens(10))
            master = cluster.owner_of(stream_key(run_id))
            replica = cluster.replica_of(master)
            assert Redis(port=master.port).wait(1, 5000) == 1
            stop_replicating(replica)
            requests.post(f"{url}/runs/{run_id}/events", json=tokens(10))
            acknowledged = history(url, run_id)
            cluster.kill(master)
            cluster.await_failover(master)

            after = append_until_accepted(url, run_id)
            kept = history(url, run_id)
        finally:
            live.stop()

    assert [e["sequence"] for e in acknowledged] == list(range(1, 22))
    assert after.status_code == 201, after.text
    assert after.json()["sequences"] == [22]
    assert kept[:21] == acknowledged
    assert [e["sequence"] for e in kept] == list(range(1, 23))
