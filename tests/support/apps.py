"""Service configurations for the end-to-end tests, and Flask apps on them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from runstream.entrypoints.container import build_container
from runstream.entrypoints.http.app import create_app

MEMORY = {"RUNSTREAM_EVENT_LOG": "memory", "RUNSTREAM_RUN_REPOSITORY": "memory"}


E2E_REDIS_DB = 13  # a db index of its own, away from the contract suites' keys


API_KEYS = "key-a:tenant-a,key-b:tenant-b"


@contextlib.contextmanager
def sqlite_env() -> Iterator[dict[str, str]]:
    from tests.support.sql_backend import fresh_sqlite_url

    with fresh_sqlite_url() as url:
        yield {"RUNSTREAM_EVENT_LOG": "sql", "RUNSTREAM_RUN_REPOSITORY": "sql",
               "RUNSTREAM_DATABASE_URL": url}  # fmt: skip


@contextlib.contextmanager
def redis_mysql_env() -> Iterator[dict[str, str]]:
    """Redis and a fresh MariaDB database whose run ids start at a random base,
    so test sessions running at once on the machine's Redis never share a
    stream key (nor flush each other's), and the keys are removed afterwards."""
    import random

    import redis
    from sqlalchemy import func, select, text

    from runstream.adapters.mysql_legacy.engine import build_engine
    from runstream.adapters.mysql_legacy.schema import upgrade
    from runstream.adapters.mysql_legacy.tables import execution_run
    from runstream.adapters.redis_stream.codec import key_index, stream_key
    from tests.services import require_mysql, require_redis
    from tests.support.sql_backend import fresh_mysql_database

    redis_url = require_redis().rsplit("/", 1)[0] + f"/{E2E_REDIS_DB}"
    first_id = random.SystemRandom().randrange(10**12, 9 * 10**12, 10**6)
    with fresh_mysql_database(require_mysql()) as url:
        engine = build_engine(url)
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE execution_run AUTO_INCREMENT = {first_id}"))
        try:
            yield {
                "RUNSTREAM_EVENT_LOG": "redis",
                "RUNSTREAM_RUN_REPOSITORY": "sql",
                "RUNSTREAM_DATABASE_URL": url,
                "RUNSTREAM_REDIS_URL": redis_url,
            }
        finally:
            with engine.connect() as conn:
                last_id = conn.scalar(select(func.max(execution_run.c.id)))
            engine.dispose()
            if last_id is not None:
                with redis.Redis.from_url(redis_url) as client:
                    runs = range(first_id, last_id + 1)
                    keys = [k(i) for i in runs for k in (stream_key, key_index)]
                    for start in range(0, len(keys), 500):
                        client.delete(*keys[start : start + 500])


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
