"""Creating and checking the schema with the Alembic scripts of this package."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from runstream.adapters.mysql_legacy.engine import writing
from runstream.adapters.mysql_legacy.failures import storage_errors
from runstream.adapters.mysql_legacy.legacy import (
    ADOPTED_REVISION,
    adopt_legacy_tables,
    legacy_tables_present,
)
from runstream.domain.errors import StorageUnavailable

MIGRATIONS = Path(__file__).with_name("migrations")
# Not `alembic_version`: a legacy application may keep its own in the database.
VERSION_TABLE = "runstream_alembic_version"
UPGRADE_COMMAND = "runstream db upgrade"
_LOCK_SECONDS = 60


class SchemaOutOfDate(StorageUnavailable):
    """The database schema is not the one this code needs."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships at least one revision"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has no runstream schema."""
    with storage_errors("read the schema version"), engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        )
        return context.get_current_revision()


def ensure_current(engine: Engine) -> None:
    """Raise SchemaOutOfDate, naming the command that fixes it, unless the
    database is at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None and _holds_legacy_tables(engine):
        found = "holds the legacy tables but no runstream schema (adopted on upgrade)"
    elif current is None:
        found = "has no runstream schema"
    else:
        found = f"is at schema revision {current}"
    raise SchemaOutOfDate(
        f"the database {engine.url.render_as_string(hide_password=True)} {found}; "
        f"this runstream needs revision {head}. Run `{UPGRADE_COMMAND}` "
        "(with the same RUNSTREAM_DATABASE_URL) to create or migrate it."
    )


def _holds_legacy_tables(engine: Engine) -> bool:
    with storage_errors("look for legacy tables"), engine.connect() as conn:
        return legacy_tables_present(conn)


def upgrade(engine: Engine, progress: Callable[[str], None] | None = None) -> list[str]:
    """Migrate the database to the newest revision; returns the revisions
    applied (none when it is already current). Safe to run concurrently.

    A database that holds the legacy tables but no runstream history is adopted
    first (adapters/mysql_legacy/legacy.py), or refused with LegacySchemaMismatch.
    """
    applied: list[str] = []

    def on_apply(*, step: Any, **_: Any) -> None:
        applied.append(step.up_revision_id)
        if progress is not None:
            progress(f"{step.up_revision_id}: {step.up_revision.doc}")

    config = alembic_config()
    config.attributes["on_version_apply"] = on_apply
    # The lock is held on a connection of its own, so the upgrade's own
    # transaction (alembic's version row) is committed before it is released:
    # released first, a racing upgrader read the old revision and applied it again.
    with (
        storage_errors("upgrade the schema"),
        engine.connect() as lock_conn,
        _migration_lock(lock_conn),
        writing(engine) as conn,
    ):
        config.attributes["connection"] = conn
        if _revision_of(conn) is None and legacy_tables_present(conn):
            _adopt(config, conn, progress)
        command.upgrade(config, "head")
    return applied


def _revision_of(conn: Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _adopt(
    config: Config, conn: Connection, progress: Callable[[str], None] | None
) -> None:
    """Check and complete the legacy tables, then stamp them at the revision
    whose shape they have, so the upgrade goes on from there."""
    script = ScriptDirectory.from_config(config).get_revision(ADOPTED_REVISION)
    assert script is not None, "the package ships the adopted revision"
    adopt_legacy_tables(conn, script.module._create_heads)
    on_apply = config.attributes.pop("on_version_apply", None)
    command.stamp(config, ADOPTED_REVISION)
    if on_apply is not None:
        config.attributes["on_version_apply"] = on_apply
    if progress is not None:
        progress(f"{ADOPTED_REVISION}: adopted the legacy tables (their shape)")


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    """MySQL runs DDL outside transactions: serialize upgraders with a named
    lock. (On SQLite the write transaction already serializes them.)"""
    if conn.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    got = conn.execute(
        text("SELECT GET_LOCK('runstream_schema', :wait)"), {"wait": _LOCK_SECONDS}
    ).scalar()
    if got != 1:
        raise StorageUnavailable("another schema upgrade holds the lock; try again")
    try:
        yield
    finally:
        conn.execute(text("SELECT RELEASE_LOCK('runstream_schema')"))
