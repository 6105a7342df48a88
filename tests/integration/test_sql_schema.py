"""`runstream db upgrade` and the schema check, on MariaDB and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from runstream.adapters.mysql_legacy.engine import sql_engine
from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.adapters.mysql_legacy.schema import (
    VERSION_TABLE,
    SchemaOutOfDate,
    alembic_config,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)
from runstream.adapters.mysql_legacy.tables import metadata
from runstream.domain.errors import StorageUnavailable
from runstream.entrypoints.cli import main
from tests.services import require_mysql
from tests.support.sql_backend import (
    fresh_mysql_database,
    fresh_sqlite_url,
    open_engine,
)

TABLES = {"execution_run", "execution_event", "execution_event_log", VERSION_TABLE}


@pytest.fixture(params=[pytest.param("mysql", marks=pytest.mark.mysql), "sqlite"])
def empty_database(request) -> Iterator[str]:
    """The URL of a database with nothing in it."""
    if request.param == "mysql":
        database = fresh_mysql_database(require_mysql())
    else:
        database = fresh_sqlite_url()
    with database as url:
        yield url


@pytest.fixture
def engine(empty_database) -> Iterator[Engine]:
    """An engine on that database, disposed before the database is dropped."""
    resource = sql_engine(empty_database)
    yield next(resource)
    resource.close()


def schema_of(engine: Engine) -> dict[str, Any]:
    """Tables, columns, indexes and the revision: what an upgrade could change."""
    found = inspect(engine)
    tables = {
        name: (
            [
                (c["name"], str(c["type"]), c["nullable"])
                for c in found.get_columns(name)
            ],
            sorted(
                (i["name"], tuple(i["column_names"])) for i in found.get_indexes(name)
            ),
            found.get_pk_constraint(name)["constrained_columns"],
        )
        for name in found.get_table_names()
    }
    return {"tables": tables, "revision": current_revision(engine)}


def test_db_upgrade_creates_the_schema_and_a_second_run_changes_nothing(
    empty_database, engine, monkeypatch, capsys
):
    monkeypatch.setenv("RUNSTREAM_DATABASE_URL", empty_database)

    first = main(["db", "upgrade"])
    created = schema_of(engine)
    second = main(["db", "upgrade"])

    assert (first, second) == (0, 0)
    assert set(created["tables"]) == TABLES
    assert created["revision"] == head_revision()
    assert schema_of(engine) == created
    output = capsys.readouterr().out
    assert "applied 0001" in output
    assert output.rstrip().endswith("schema is current; nothing to do")


def test_the_migrated_schema_is_exactly_the_tables_the_adapters_use(engine):
    upgrade(engine)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        differences = compare_metadata(context, metadata)

    assert differences == []


def test_upgrades_racing_on_an_empty_database_both_succeed(engine):
    with ThreadPoolExecutor(2) as pool:
        applied = list(pool.map(lambda _: upgrade(engine), range(2)))

    assert sorted(applied) == [[], ["0001", "0002", "0003"]]
    assert current_revision(engine) == head_revision()


def test_the_schema_check_refuses_an_unmigrated_database_naming_the_command(engine):
    with pytest.raises(SchemaOutOfDate, match="runstream db upgrade"):
        ensure_current(engine)


def test_the_schema_check_accepts_a_migrated_database(engine):
    upgrade(engine)

    ensure_current(engine)


def test_db_check_exits_3_until_the_schema_is_upgraded(empty_database, monkeypatch):
    monkeypatch.setenv("RUNSTREAM_DATABASE_URL", empty_database)

    before = main(["db", "check"])
    main(["db", "upgrade"])
    after = main(["db", "check"])

    assert (before, after) == (3, 0)


def test_db_upgrade_on_an_unreachable_database_fails_with_a_message(
    monkeypatch, capsys
):
    monkeypatch.setenv("RUNSTREAM_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:1/x")

    code = main(["db", "upgrade"])

    assert code == 1
    assert "Connection refused" in capsys.readouterr().err


def test_the_schema_check_on_an_unreachable_database_is_storage_unavailable():
    engine = open_engine("mysql+pymysql://root@127.0.0.1:1/x")

    with pytest.raises(StorageUnavailable) as raised:
        ensure_current(engine)

    assert not isinstance(raised.value, SchemaOutOfDate)


def test_upgrading_a_database_with_events_to_0002_keeps_them_without_keys(engine):
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text(
                "INSERT INTO execution_event (run_id, id_ms, id_seq, event_id, "
                "sequence, timestamp, category, action, data) VALUES (7, 5, 0, "
                "'5-0', 1, '2026-01-01 00:00:00', 'lifecycle', 'started', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO execution_event_log VALUES (7, 5, 0, 1, 5, 0, 1, 0, NULL)"
            )
        )

    upgrade(engine)
    log = SqlEventLog(engine)
    kept = log.read(7)

    assert [(e.sequence, e.idempotency) for e in kept] == [(1, None)]
