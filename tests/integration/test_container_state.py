"""What a container builds is its own: drivers, shared clients and background
threads live and end with it, never with another container in the process."""

from __future__ import annotations

import threading

import pytest

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.schema import upgrade
from runstream.entrypoints.container import build_container
from tests.factories import new_run_id, started
from tests.services import require_redis
from tests.support.redis_cluster import shared_cluster
from tests.support.sql_backend import fresh_sqlite_url


def cluster_container(url: str):  # type: ignore[no-untyped-def]
    return build_container(
        {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_EVENT_ARCHIVE": "none",
            "RUNSTREAM_REDIS_CLUSTER": "1",
            "RUNSTREAM_REDIS_URL": url,
            "RUNSTREAM_RUN_REPOSITORY": "memory",
        }
    )


@pytest.mark.redis
@pytest.mark.slow
def test_two_containers_on_one_cluster_each_have_their_own_client():
    url = shared_cluster().url
    first, second = cluster_container(url), cluster_container(url)
    clients = (first.redis_client(), second.redis_client())

    first.shutdown_resources()
    answers = second.redis_client().ping()
    second.shutdown_resources()

    assert clients[0] is not clients[1]
    assert answers


@pytest.mark.redis
def test_shutting_down_the_container_ends_every_background_thread_it_started():
    with fresh_sqlite_url() as database:
        engine = build_engine(database)
        upgrade(engine)
        engine.dispose()
        container = build_container(
            {
                "RUNSTREAM_EVENT_LOG": "redis",
                "RUNSTREAM_EVENT_LOG_FALLBACK": "sql",
                "RUNSTREAM_REDIS_URL": require_redis(),
                "RUNSTREAM_DATABASE_URL": database,
                "RUNSTREAM_RUN_REPOSITORY": "memory",
            }
        )
        before = set(threading.enumerate())
        lifecycle = container.background()
        container.event_log().append(new_run_id(), [started()])
        mine = set(threading.enumerate()) - before

        container.shutdown_resources()

    assert set(lifecycle.components) == {
        "archiver", "failover_prober", "event_writer", "sql_expiry", "run_sweeper",
    }  # fmt: skip
    assert {t.name for t in mine} >= {
        "archiver", "event-writer", "sql-log-expiry", "run-sweeper",
    }  # fmt: skip
    assert [t.name for t in mine if t.is_alive()] == []
