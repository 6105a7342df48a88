"""Alembic environment: migrations run on the connection the caller provides.

`adapters.mysql_legacy.schema.upgrade` passes it in `config.attributes`, with an
optional `on_version_apply` callback for progress. Without one, the URL comes
from the `sqlalchemy.url` option or `RUNSTREAM_DATABASE_URL`, so the plain
`alembic` command works too.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.schema import VERSION_TABLE
from runstream.adapters.mysql_legacy.tables import metadata


def _run(connection: Connection) -> None:
    callback = context.config.attributes.get("on_version_apply")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        on_version_apply=callback,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    configured = context.config.get_main_option("sqlalchemy.url")
    return configured or os.environ.get(
        "RUNSTREAM_DATABASE_URL", "sqlite:///runstream.db"
    )


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    engine = build_engine(_url())
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()
