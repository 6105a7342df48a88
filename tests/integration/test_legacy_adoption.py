"""`runstream db upgrade` adopts the legacy tables, or refuses them in one line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text

from runstream.adapters.mysql_legacy.engine import sql_engine
from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.adapters.mysql_legacy.schema import (
    SchemaOutOfDate,
    current_revision,
    ensure_current,
    head_revision,
)
from runstream.domain.model import RunId
from runstream.entrypoints.cli import main
from tests.factories import token
from tests.services import require_mysql
from tests.support.legacy_tables import (
    EVENT_TABLE,
    HISTORY,
    add_history,
    create_legacy_tables,
    expected_ids,
    run_table,
)
from tests.support.sql_backend import fresh_mysql_database, fresh_sqlite_url


@pytest.fixture(params=[pytest.param("mysql", marks=pytest.mark.mysql), "sqlite"])
def database(request, monkeypatch) -> Iterator[tuple[str, Engine]]:
    """An empty database, its URL set as RUNSTREAM_DATABASE_URL, and an engine."""
    if request.param == "mysql":
        fresh = fresh_mysql_database(require_mysql())
    else:
        fresh = fresh_sqlite_url()
    with fresh as url:
        monkeypatch.setenv("RUNSTREAM_DATABASE_URL", url)
        resource = sql_engine(url)
        yield url, next(resource)
        resource.close()


def test_db_upgrade_adopts_the_legacy_tables_and_keeps_their_history(database, capsys):
    _, engine = database
    create_legacy_tables(engine)
    add_history(engine)

    code = main(["db", "upgrade"])

    assert code == 0, capsys.readouterr()
    assert "applied 0001: adopted the legacy tables" in capsys.readouterr().out
    assert current_revision(engine) == head_revision()
    log = SqlEventLog(engine, ttl_seconds=None)
    for run_id in HISTORY:
        events = log.read(RunId(run_id))
        assert [str(event.id) for event in events] == expected_ids(run_id)
    info = log.info(RunId(1))
    assert info is not None and info.closed and info.last_sequence == 4
    assert not log.info(RunId(2)).closed  # type: ignore[union-attr]


def test_an_adopted_run_goes_on_after_its_legacy_events(database, capsys):
    _, engine = database
    create_legacy_tables(engine)
    add_history(engine)
    assert main(["db", "upgrade"]) == 0, capsys.readouterr()
    log = SqlEventLog(engine, ttl_seconds=None)

    stored = log.append(RunId(2), [token()])

    assert stored[0].sequence == 3
    assert str(stored[0].id) > expected_ids(2)[-1]


def test_adoption_adds_the_indexes_runstream_reads_by(database, capsys):
    _, engine = database
    create_legacy_tables(engine)

    assert main(["db", "upgrade"]) == 0, capsys.readouterr()

    found = inspect(engine)
    run_indexes = {tuple(i["column_names"]) for i in found.get_indexes("execution_run")}
    assert {("status", "id"), ("tenant", "id")} <= run_indexes
    unique = {
        tuple(i["column_names"])
        for i in found.get_indexes("execution_event")
        if i["unique"]
    } | {
        tuple(u["column_names"])
        for u in found.get_unique_constraints("execution_event")
    }
    assert {("run_id", "sequence"), ("run_id", "event_id")} <= unique


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("data LONGTEXT NOT NULL,", "column data is missing"),
        ("category VARCHAR(16) NOT NULL", "column category is BIGINT"),
        ("action VARCHAR(64) NOT NULL", "column action must be NOT NULL"),
    ],
)
def test_a_mismatching_legacy_table_is_refused_naming_table_and_column(
    database, capsys, change, named
):
    _, engine = database
    replacement = {
        "data LONGTEXT NOT NULL,": "",
        "category VARCHAR(16) NOT NULL": "category BIGINT NOT NULL",
        "action VARCHAR(64) NOT NULL": "action VARCHAR(64) NULL",
    }[change]
    broken = EVENT_TABLE.replace(change, replacement)
    create_legacy_tables(engine, broken)

    code = main(["db", "upgrade"])

    error = capsys.readouterr().err.strip()
    assert code == 1
    assert error.splitlines() == [error]
    assert f"legacy table execution_event: {named}" in error
    assert current_revision(engine) is None
    assert "execution_event_log" not in inspect(engine).get_table_names()


def test_legacy_runs_with_a_status_runstream_does_not_know_are_refused(
    database, capsys
):
    _, engine = database
    create_legacy_tables(engine)
    add_history(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE execution_run SET status = 'archived' WHERE id = 1"))

    code = main(["db", "upgrade"])

    assert code == 1
    assert "column status holds archived" in capsys.readouterr().err


def test_a_run_id_the_database_does_not_assign_is_refused(database, capsys):
    _, engine = database
    runs = run_table(engine.dialect.name, "BIGINT NOT NULL PRIMARY KEY")
    create_legacy_tables(engine, runs=runs)

    code = main(["db", "upgrade"])

    assert code == 1
    assert "legacy table execution_run: column id must be" in capsys.readouterr().err
    assert current_revision(engine) is None


def test_the_schema_check_names_the_legacy_tables_and_the_command(database):
    _, engine = database
    create_legacy_tables(engine)

    with pytest.raises(SchemaOutOfDate) as caught:
        ensure_current(engine)

    assert "holds the legacy tables" in str(caught.value)
    assert "runstream db upgrade" in str(caught.value)
