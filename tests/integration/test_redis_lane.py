"""The lane: the Redis adapter's own connections for its hot commands."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from runstream.adapters.redis_stream.client import Client
from runstream.adapters.redis_stream.lane import Lane
from tests.support.redis_server import free_port

pytestmark = pytest.mark.redis


@pytest.fixture
def lane(client: Client) -> Iterator[Lane]:
    assert isinstance(client, Redis)
    lane = Lane(client)
    yield lane
    lane.close()


def test_calls_reuse_one_connection(lane: Lane) -> None:
    first = lane.call(("CLIENT", "ID"))
    assert lane.call(("CLIENT", "ID")) == first


def test_replies_come_as_the_parser_gives_them(lane: Lane, client: Client) -> None:
    key = "runstream-test:lane-list"
    client.delete(key)
    try:
        assert lane.call(("RPUSH", key, "a", "b")) == 2
        assert lane.call(("LRANGE", key, "0", "-1")) == ["a", "b"]
    finally:
        client.delete(key)


def test_an_error_reply_leaves_the_connection_in_use(lane: Lane) -> None:
    before = lane.call(("CLIENT", "ID"))
    with pytest.raises(ResponseError):
        lane.call(("NO-SUCH-COMMAND",))
    assert lane.call(("CLIENT", "ID")) == before


def test_a_quiet_connection_the_server_closed_is_replaced_before_use(
    client: Client,
) -> None:
    assert isinstance(client, Redis)
    lane = Lane(client, quiet_seconds=0.0)  # every idle connection is quiet
    killed = lane.call(("CLIENT", "ID"))
    client.client_kill_filter(_id=killed)
    # Without the check on checkout this call would fail on the dead socket.
    assert lane.call(("PING",)) == "PONG"
    assert lane.call(("CLIENT", "ID")) != killed


def test_a_connection_that_broke_while_busy_fails_once_then_reconnects(
    client: Client,
) -> None:
    assert isinstance(client, Redis)
    lane = Lane(client, quiet_seconds=3600.0)  # never checked before use
    killed = lane.call(("CLIENT", "ID"))
    client.client_kill_filter(_id=killed)
    with pytest.raises(RedisConnectionError):
        lane.call(("PING",))
    assert lane.call(("CLIENT", "ID")) != killed


def test_a_dead_server_fails_the_call() -> None:
    dead = Lane(Redis(port=free_port(), socket_connect_timeout=0.5))
    with pytest.raises(RedisConnectionError):
        dead.call(("PING",))


def test_at_most_the_given_number_of_connections_stay_idle(client: Client) -> None:
    assert isinstance(client, Redis)
    lane = Lane(client, idle=0)
    first = lane.call(("CLIENT", "ID"))
    assert lane.call(("CLIENT", "ID")) != first
    lane.close()


def test_a_forked_child_opens_its_own_connection(lane: Lane) -> None:
    parent = lane.call(("CLIENT", "ID"))
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_child_client_id, args=(lane, results))
    child.start()
    child_id = results.get(timeout=10)
    child.join(timeout=10)
    assert child.exitcode == 0
    assert child_id != parent
    # The child left the parent's connection alone.
    assert lane.call(("CLIENT", "ID")) == parent


def _child_client_id(lane: Lane, results: multiprocessing.Queue[int]) -> None:
    results.put(lane.call(("CLIENT", "ID")))


def test_pipelined_commands_come_back_in_order(lane: Lane, client: Client) -> None:
    key = "runstream-test:lane-pipeline"
    client.delete(key)
    try:
        replies = lane.call_all(
            [("RPUSH", key, "a"), ("RPUSH", key, "b"), ("LLEN", key)]
        )
        assert replies == [1, 2, 2]
    finally:
        client.delete(key)


def test_an_error_in_a_pipeline_is_raised_after_all_replies_are_read(
    lane: Lane,
) -> None:
    before = lane.call(("CLIENT", "ID"))
    with pytest.raises(ResponseError):
        lane.call_all([("NO-SUCH-COMMAND",), ("PING",)])
    # The PING's reply was consumed with the error: the connection is in step.
    assert lane.call(("CLIENT", "ID")) == before
    assert lane.call(("ECHO", "next")) == "next"
