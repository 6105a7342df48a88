"""Service configurations for the end-to-end tests, and Flask apps on them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from runstream.entrypoints.container import build_container
from runstream.entrypoints.http.app import create_app

MEMORY = {"RUNSTREAM_EVENT_LOG": "memory", "RUNSTREAM_RUN_REPOSITORY": "memory"}


E2E_REDIS_DB = 12  # a db index of its own: run ids restart at 1 in a fresh DB


API_KEYS = "key-a:tenant-a,key-b:tenant-b"


@contextlib.contextmanager
def sqlite_env() -> Iterator[dict[str, str]]:
    from tests.support.sql_backend import fresh_sqlite_url

    with fresh_sqlite_url() as url:
        yield {"RUNSTREAM_EVENT_LOG": "sql", "RUNSTREAM_RUN_REPOSITORY": "sql",
               "RUNSTREAM_DATABASE_URL": url}  # fmt: skip


@contextlib.contextmanager
def redis_mysql_env() -> Iterator[dict[str, str]]:
    import redis

    from runstream.adapters.mysql_legacy.engine import build_engine
    from runstream.adapters.mysql_legacy.schema import upgrade
    from tests.services import require_mysql, require_redis
    from tests.support.sql_backend import fresh_mysql_database

    redis_url = require_redis().rsplit("/", 1)[0] + f"/{E2E_REDIS_DB}"
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    with fresh_mysql_database(require_mysql()) as url:
        engine = build_engine(url)
        upgrade(engine)
        engine.dispose()
        yield {
            "RUNSTREAM_EVENT_LOG": "redis",
            "RUNSTREAM_RUN_REPOSITORY": "sql",
            "RUNSTREAM_DATABASE_URL": url,
            "RUNSTREAM_REDIS_URL": redis_url,
        }
    client.flushdb()
    client.close()


@contextlib.contextmanager
def memory_env() -> Iterator[dict[str, str]]:
    yield dict(MEMORY)


CONFIGS = [
    pytest.param(memory_env, id="memory"),
    pytest.param(sqlite_env, id="sqlite"),
    pytest.param(
        redis_mysql_env, id="redis_mysql", marks=[pytest.mark.redis, pytest.mark.mysql]
    ),
]


def make_app(**env: str):  # type: ignore[no-untyped-def]
    container = build_container(
        {**MEMORY, "RUNSTREAM_HEARTBEAT_SECONDS": "0.05", **env}
    )
    return create_app(container)


def close_app(app) -> None:  # type: ignore[no-untyped-def]
    """End an app from make_app: its hub, its background threads, its drivers."""
    app.container.fan_out_hub().close()
    app.container.shutdown_resources()
