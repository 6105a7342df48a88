"""The Redis Stream adapter as a contract-suite backend, on the machine's Redis."""

from __future__ import annotations

import atexit
import functools
from collections.abc import Iterable

from runstream.adapters.redis_stream.client import Client, redis_client
from runstream.adapters.redis_stream.codec import key_index, stream_key
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from tests.services import require_redis
from tests.support.backends import LogBackend

_PURGE_CHUNK = 500


@functools.cache
def _client(url: str) -> Client:
    resource = redis_client(url, cluster=False, timeout=2.0)
    client = next(resource)
    atexit.register(resource.close)
    return client


def redis_log_backend() -> LogBackend:
    client = _client(require_redis())

    def make(ttl_seconds: float = 86400) -> RedisStreamEventLog:
        return RedisStreamEventLog(client, maxlen=10_000, ttl_seconds=ttl_seconds)

    def purge(run_ids: Iterable[int]) -> None:
        keys = [k(run) for run in run_ids for k in (stream_key, key_index)]
        for start in range(0, len(keys), _PURGE_CHUNK):
            client.delete(*keys[start : start + _PURGE_CHUNK])

    return LogBackend(make=make, purge=purge)
