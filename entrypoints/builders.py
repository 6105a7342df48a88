"""Typed builders of the drivers and adapters the container wires.

Each imports its driver only when called, so an unselected backend's driver is
never imported; each is typed, so mypy checks the adapter against its port
where a builder returns it as that port (here and in event_logs.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.domain.ports import RunRepository

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from runstream.adapters.mysql_legacy.event_log import SqlEventLog
    from runstream.adapters.redis_stream.client import Client, ClusterClients
    from runstream.adapters.redis_stream.deferred import DeferredEventLog
    from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
    from runstream.adapters.tiered.tier_record import TierRecord


def cluster_clients() -> Iterator[ClusterClients]:
    from runstream.adapters.redis_stream import client

    yield from client.cluster_clients()


def redis_client(
    url: str, cluster: bool, timeout: float, clusters: ClusterClients
) -> Iterator[Client]:
    from runstream.adapters.redis_stream import client

    yield from client.redis_client(url, cluster, timeout, clusters)


def sql_engine(url: str) -> Iterator[Engine]:
    from runstream.adapters.mysql_legacy import engine

    yield from engine.sql_engine(url)


def sql_event_log(engine: Engine, ttl_seconds: float | None) -> SqlEventLog:
    from runstream.adapters.mysql_legacy.event_log import SqlEventLog

    return SqlEventLog(engine, ttl_seconds=ttl_seconds)


def redis_stream_log(
    client: Client,
    maxlen: int,
    ttl_seconds: float,
    min_replicas: int,
    replica_timeout_ms: int,
) -> RedisStreamEventLog:
    from runstream.adapters.redis_stream.event_log import RedisStreamEventLog

    return RedisStreamEventLog(
        client, maxlen, ttl_seconds, min_replicas, replica_timeout_ms
    )


def deferred_redis_log(build: Callable[[], RedisStreamEventLog]) -> DeferredEventLog:
    """Built on first use, so a worker starts even while no cluster seed answers."""
    from runstream.adapters.redis_stream.deferred import DeferredEventLog

    return DeferredEventLog(build)


def memory_run_repository() -> RunRepository:
    return InMemoryRunRepository()


def sql_run_repository(engine: Engine) -> RunRepository:
    from runstream.adapters.mysql_legacy.run_repository import SqlRunRepository

    return SqlRunRepository(engine)


def sql_tier_record(engine: Engine) -> TierRecord:
    """The fleet's one decision of which tier takes appends, kept in SQL."""
    from runstream.adapters.mysql_legacy.tier_record import SqlTierRecord

    return SqlTierRecord(engine)
