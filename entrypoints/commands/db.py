"""`runstream db upgrade|check`: create, migrate or check the SQL schema."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from sqlalchemy import Engine

from runstream.adapters.mysql_legacy.engine import sql_engine
from runstream.adapters.mysql_legacy.schema import (
    SchemaOutOfDate,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)
from runstream.domain.errors import StorageUnavailable
from runstream.entrypoints.config import load_config

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
    url = load_config()["database"]["url"]
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
    except StorageUnavailable as err:
        print(f"runstream db: {err}", file=sys.stderr)
        return EXIT_UNAVAILABLE


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
