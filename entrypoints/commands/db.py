"""`runstream db upgrade|check`: create, migrate or check the SQL schema."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager

from sqlalchemy import Engine

from runstream.adapters.mysql_legacy.engine import sql_engine
from runstream.adapters.mysql_legacy.legacy_shape import LegacySchemaMismatch
from runstream.adapters.mysql_legacy.schema import (
    UPGRADE_COMMAND,
    SchemaOutOfDate,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)
from runstream.domain.errors import StorageUnavailable
from runstream.entrypoints.config import load_config
from runstream.entrypoints.startup_check import (
    check_before_start,
    check_driver,
    database_url,
    unreachable_database,
)

EXIT_UNAVAILABLE = 1
EXIT_OUT_OF_DATE = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "upgrade",
        help="create the schema or migrate it to the newest revision",
        description="Create or migrate the schema of RUNSTREAM_DATABASE_URL. "
        "Running it again when the schema is current changes nothing.",
    )
    actions.add_parser(
        "check", help="exit 0 if the schema is current, 3 if it needs an upgrade"
    )


def say(text: str) -> None:
    print(f"runstream db: {text}", flush=True)


def run(args: argparse.Namespace) -> int:
    config = load_config()
    check_before_start(config)
    url = config["database"]["url"]
    check_driver(url)
    if args.action == "check" and _no_sqlite_file(url):
        print(f"runstream db: {_missing_file(url)}", file=sys.stderr)
        return EXIT_OUT_OF_DATE
    engine_of = contextmanager(sql_engine)
    try:
        with engine_of(url) as engine:
            say(f"database {engine.url.render_as_string(hide_password=True)}")
            if args.action == "check":
                return _check(engine)
            return _upgrade(engine)
    except SchemaOutOfDate as err:
        print(f"runstream db: {err}", file=sys.stderr)
        return EXIT_OUT_OF_DATE
    except LegacySchemaMismatch as err:
        print(f"runstream db: {err}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except StorageUnavailable as err:
        print(f"runstream db: {unreachable_database(url, err)}", file=sys.stderr)
        return EXIT_UNAVAILABLE


def _no_sqlite_file(url: str) -> bool:
    """A check must not leave behind the empty file SQLite creates on connect."""
    parsed = database_url(url)
    name = parsed.database or ""
    in_memory = name in ("", ":memory:") or parsed.query.get("mode") == "memory"
    return (
        parsed.get_backend_name() == "sqlite"
        and not in_memory
        and not os.path.exists(name)
    )


def _missing_file(url: str) -> str:
    name = database_url(url).database
    return (
        f"the database file {name} does not exist, so it has no runstream schema; "
        f"run `{UPGRADE_COMMAND}` (with the same RUNSTREAM_DATABASE_URL) to create it"
    )


def _upgrade(engine: Engine) -> int:
    current, head = current_revision(engine), head_revision()
    say(f"schema revision {current or 'none (empty database)'}, newest {head}")
    applied = upgrade(engine, progress=lambda step: say(f"applied {step}"))
    if applied:
        say(f"schema upgraded to revision {head} ({len(applied)} step(s))")
    else:
        say("schema is current; nothing to do")
    return 0


def _check(engine: Engine) -> int:
    ensure_current(engine)
    say(f"schema is current (revision {head_revision()})")
    return 0
