"""`runstream serve` on a replicated Redis Cluster with replica-wait on: the
master of a live run is killed, its replica takes over, appends and streams
resume, and every acknowledged event is in the log once, in a gapless log that
every subscriber received whole.

The killed master is the first of the service's seed nodes: a gunicorn worker
still loading the app when it dies must find the cluster through another seed
(a worker that fails to boot would make gunicorn stop the whole service).
Running clients do not need their seed (they know every node), which
tests/integration/test_cluster_failover.py shows by killing its seed master.
"""

import itertools
import threading
import time

import pytest
import requests

from runstream.adapters.redis_stream.codec import stream_key
from tests.support.live_runs import history, start
from tests.support.live_server import LiveServer
from tests.support.polling import joined
from tests.support.redis_cluster import LocalCluster, cluster_service_env
from tests.support.sse_client import SseStream

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.slow]

REPLICA_WAIT = {
    "RUNSTREAM_REDIS_MIN_REPLICAS": "1",
    "RUNSTREAM_REDIS_REPLICA_TIMEOUT_MS": "500",
}


class Reader(threading.Thread):
    """Follows the stream to `close` like `runstream tail`: resumes with
    Last-Event-ID when a stream ends early, retrying while the service says 503."""

    def __init__(self, url: str, run_id: int) -> None:
        super().__init__(daemon=True)
        self.url, self.path = url, f"/runs/{run_id}/events/stream"
        self.ids: list[str] = []
        self.receiving = threading.Event()
        self.closed = False

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while not self.closed and time.monotonic() < deadline:
            resume = {"Last-Event-ID": self.ids[-1]} if self.ids else {}
            stream = SseStream(self.url, self.path, resume, timeout=30)
            if stream.status != 200:
                stream.close()
                time.sleep(0.1)
                continue
            for frame in stream.events():
                if frame.event == "close":
                    self.closed = True
                    break
                self.ids.append(frame.id or "")
                self.receiving.set()
            stream.close()


class Producer(threading.Thread):
    """Posts numbered events one at a time; a failed post is never repeated
    with the same number, so only acknowledged numbers must be in the log."""

    def __init__(self, url: str, run_id: int) -> None:
        super().__init__(daemon=True)
        self.url, self.run_id = url, run_id
        self.acked: dict[int, str] = {}
        self.failed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            for n in itertools.count():
                if self.stop.is_set():
                    return
                body = {"event": {"category": "llm", "action": "stream"}}
                body["data"] = {"n": n}
                try:
                    answer = session.post(
                        f"{self.url}/runs/{self.run_id}/events", json=body, timeout=5
                    )
                except requests.RequestException:
                    answer = None
                if answer is not None and answer.status_code == 201:
                    self.acked[n] = answer.json()["ids"][0]
                else:
                    self.failed += 1
                    time.sleep(0.02)

    def await_more(self, count: int, timeout: float = 20) -> float:
        wanted = len(self.acked) + count
        deadline = time.monotonic() + timeout
        while len(self.acked) < wanted:
            assert time.monotonic() < deadline, "appends did not resume"
            time.sleep(0.01)
        return time.monotonic()


def test_a_killed_master_is_replaced_and_no_acknowledged_event_is_lost_or_repeated():
    with (
        LocalCluster(masters=3, replicas=1, node_timeout_ms=500) as cluster,
        cluster_service_env(cluster, every_seed=True) as env,
    ):
        server = LiveServer({**env, **REPLICA_WAIT}, workers=2)
        try:
            run_id = start(server)
            readers, producer = _follow_and_produce(server, run_id)

            victim = cluster.owner_of(stream_key(run_id))
            assert victim is cluster.nodes[0], "the first seed must be the victim"
            killed_at = time.monotonic()
            cluster.kill(victim)
            cluster.await_failover(victim)
            victim.start()  # back as its successor's replica: WAIT 1 can succeed
            resumed_at = producer.await_more(20)
            producer.stop.set()
            joined(producer, 10)
            _cancel(server, run_id)
            for reader in readers:
                joined(reader, 30)
            complete = history(server, run_id)
        finally:
            server.stop()

    by_number = {event["data"]["n"]: event["id"] for event in complete[1:-1]}
    assert resumed_at - killed_at < 10
    assert producer.failed > 0
    assert [e["sequence"] for e in complete] == list(range(1, len(complete) + 1))
    assert len(by_number) == len(complete) - 2
    assert all(by_number.get(n) == event_id for n, event_id in producer.acked.items())
    assert all(reader.closed for reader in readers)
    assert all(reader.ids == [e["id"] for e in complete] for reader in readers)


def _follow_and_produce(
    server: LiveServer, run_id: int
) -> tuple[list[Reader], Producer]:
    """Five readers receiving, then a producer with 20 events acknowledged."""
    readers = [Reader(server.url, run_id) for _ in range(5)]
    for reader in readers:
        reader.start()
    assert all(reader.receiving.wait(10) for reader in readers)
    producer = Producer(server.url, run_id)
    producer.start()
    producer.await_more(20)
    return readers, producer


def _cancel(server: LiveServer, run_id: int) -> None:
    deadline = time.monotonic() + 10
    while requests.post(f"{server.url}/runs/{run_id}/cancel").status_code != 200:
        assert time.monotonic() < deadline, "the run could not be cancelled"
        time.sleep(0.05)
