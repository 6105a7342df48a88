"""The redis-py client the Redis Stream adapter runs on (a container Resource)."""

from __future__ import annotations

from collections.abc import Generator

from redis import Redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry

Client = Redis | RedisCluster

# Every failure the driver can raise; RedisClusterException is not a RedisError.
REDIS_ERRORS = (RedisError, RedisClusterException)

HEALTH_CHECK_SECONDS = 30
_LONGEST_BLOCK = 5.0
_SHORTEST_BLOCK = 0.001
# 1/hz with Redis's default hz of 10: how late a BLOCK timeout can fire.
_SERVER_TICK = 0.1


def redis_client(
    url: str, cluster: bool = False, timeout: float = 2.0
) -> Generator[Client, None, None]:
    """A pooled client whose every call gives up after `timeout` seconds.

    Responses are decoded to str (hiredis does it in C). The client speaks RESP2:
    RESP3 would add a HELLO round trip per connection and the maintenance-
    notification machinery, and the adapter needs neither.
    """
    options = {
        "decode_responses": True,
        "protocol": 2,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "socket_keepalive": True,
        "health_check_interval": HEALTH_CHECK_SECONDS,
    }
    client: Client
    if cluster:
        # Redirections (MOVED/ASK) need a retry; the cluster issue will tune it.
        client = RedisCluster.from_url(url, retry=Retry(NoBackoff(), 1), **options)
    else:
        # No retries: a retried append whose reply was lost would store its batch
        # twice, and retrying with backoff would overrun the timeout. The pool
        # already replaces connections the server closed before handing them out.
        client = Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)
    try:
        yield client
    finally:
        client.close()


def block_slice(client: Client) -> float:
    """The longest server-side BLOCK that is sure to answer before the socket
    timeout cuts the read. Redis ends a BLOCK on its next timer tick, so the
    answer can come a tick late; below about 0.25 s of timeout no block fits."""
    timeout = client.get_connection_kwargs().get("socket_timeout")
    if not timeout:
        return _LONGEST_BLOCK
    fitting = min(float(timeout) / 2, float(timeout) - 2 * _SERVER_TICK)
    return max(min(fitting, _LONGEST_BLOCK), _SHORTEST_BLOCK)
