"""The Redis Stream adapter on a local 3-master Redis Cluster: routing by slot,
sharded notices instead of one XREAD, and slots that move while runs are live."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis

from runstream.adapters.redis_stream.client import Client, redis_client
from runstream.adapters.redis_stream.cluster_wait import ClusterWait
from runstream.adapters.redis_stream.codec import stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.ids import MIN_ID, EventId
from tests.factories import new_run_id, started, token
from tests.support.cluster_follower import Follower, runs_on_every_master
from tests.support.polling import poll
from tests.support.redis_cluster import LocalCluster
from tests.support.timing import assert_within

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(masters=3) as started_cluster:
        yield started_cluster


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    resource = redis_client(cluster.url, cluster=True, timeout=2.0)
    yield next(resource)
    resource.close()


@pytest.fixture
def log(client: Client) -> Iterator[RedisStreamEventLog]:
    adapter = RedisStreamEventLog(client, resync_seconds=0.3)
    yield adapter
    adapter.close()


def sharded_subscribers(node_port: int) -> list[int]:
    with Redis(port=node_port, decode_responses=True) as node:
        return [int(c["ssub"]) for c in node.client_list() if int(c["ssub"])]


def test_runs_on_every_master_each_keep_their_own_gapless_log(cluster, log):
    runs = runs_on_every_master(cluster, per_master=2)

    stored = {run_id: log.append(run_id, [started(), token()]) for run_id in runs}
    more = {run_id: log.append(run_id, [token()]) for run_id in runs}

    for run_id in runs:
        assert log.read(run_id) == stored[run_id] + more[run_id]
        assert [e.sequence for e in log.read(run_id)] == [1, 2, 3]
        assert log.wait({run_id: stored[run_id][-1].id}, 1) == {run_id: more[run_id]}


def test_one_notice_connection_per_master_serves_every_watched_run(cluster, log):
    runs = runs_on_every_master(cluster, per_master=20)
    cursors = {run_id: log.append(run_id, [started()])[-1].id for run_id in runs}

    log.wait(cursors, timeout=0.3)

    per_master = [sharded_subscribers(node.port) for node in cluster.masters()]
    assert per_master == [[20], [20], [20]]


def test_a_live_wait_wakes_within_milliseconds_of_an_append_on_any_master(cluster, log):
    runs = runs_on_every_master(cluster, per_master=5)
    follower = Follower(log, runs)
    follower.start()
    for run_id in runs:
        log.append(run_id, [started()])
    assert all(follower.await_count(run_id, 1) < 10 for run_id in runs)

    delays = []
    for run_id in runs * 4:
        count = len(follower.seen[run_id]) + 1
        log.append(run_id, [token()])
        delays.append(follower.await_count(run_id, count))
    follower.stop.set()

    median = sorted(delays)[len(delays) // 2]
    assert_within(median, 0.5, "the median delivery (the resync comes after 2 s)")
    assert_within(max(delays), 3.0, "the slowest delivery")


def test_subscriptions_follow_the_watched_runs(cluster, client):
    waiter = ClusterWait(client, linger=0.2)
    first, second = new_run_id(), new_run_id()

    waiter.wait({first: MIN_ID, second: MIN_ID}, timeout=0.2, limit=10)
    both = sum(sum(sharded_subscribers(n.port)) for n in cluster.masters())

    def one_subscription_left() -> bool:
        waiter.wait({second: MIN_ID}, timeout=0.1, limit=10)
        return sum(sum(sharded_subscribers(n.port)) for n in cluster.masters()) == 1

    settled = poll(one_subscription_left, timeout=5)
    waiter.close()

    assert both == 2
    assert settled


def test_an_event_written_without_a_notice_still_arrives_by_the_resync(client, log):
    run_id = new_run_id()
    last = log.append(run_id, [started()])[-1]
    assert log.wait({run_id: last.id}, timeout=0.1) == {}
    fields = {"timestamp": "2026-01-01T00:00:00.000Z", "sequence": "2"}
    fields |= {"event_category": "system", "event_action": "notice", "data": "{}"}
    client.xadd(stream_key(run_id), fields)  # an operator's tool: no notice
    began = time.monotonic()

    found = log.wait({run_id: last.id}, timeout=5)

    assert [e.sequence for e in found[run_id]] == [2]
    assert_within(time.monotonic() - began, 3.0, "a resync every 0.3 s (wait: 5 s)")


def test_appends_and_live_waits_follow_a_slot_that_moves_to_another_master(
    cluster, log
):
    run_id = new_run_id()
    follower = Follower(log, [run_id])
    follower.start()
    log.append(run_id, [started()])
    owner = cluster.owner_of(stream_key(run_id))
    target = next(node for node in cluster.masters() if node is not owner)

    def append_while_asked() -> None:
        log.append(run_id, [token("during")])  # the key moved: ASK

    cluster.migrate(stream_key(run_id), target, midway=append_while_asked)
    log.append(run_id, [token("after")])  # the slot moved: MOVED
    delay = follower.await_count(run_id, 3)
    follower.stop.set()

    assert [e.sequence for e in log.read(run_id)] == [1, 2, 3]
    assert follower.seen[run_id] == log.read(run_id)
    assert delay < 5
    assert cluster.owner_of(stream_key(run_id)) is target
    assert sharded_subscribers(target.port) != []


def test_a_cursor_moved_back_is_read_again_without_a_notice(log):
    run_id = new_run_id()
    stored = log.append(run_id, [started(), token(), token()])
    assert log.wait({run_id: stored[-1].id}, timeout=0.05) == {}

    found = log.wait({run_id: stored[0].id}, timeout=0.05)

    assert found == {run_id: stored[1:]}


def test_a_wait_with_no_time_to_spend_returns_what_was_just_appended(log):
    run_id = new_run_id()
    head = log.append(run_id, [started()])[-1].id
    answers = []

    for n in range(50):
        log.wait({run_id: head}, timeout=0)  # finds nothing: the run reads clean
        new = log.append(run_id, [token(str(n))])
        answers.append(log.wait({run_id: head}, timeout=0) == {run_id: new})
        head = new[-1].id

    assert all(answers)


def test_a_wait_limited_below_the_news_returns_the_rest_next_time(log):
    run_id = new_run_id()
    stored = log.append(run_id, [started()] + [token(str(i)) for i in range(5)])

    first = log.wait({run_id: MIN_ID}, timeout=1, limit=4)[run_id]
    rest = log.wait({run_id: first[-1].id}, timeout=1, limit=4)[run_id]

    assert first + rest == stored
    assert isinstance(rest[-1].id, EventId)
