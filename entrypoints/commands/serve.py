"""`runstream serve`: the HTTP/SSE service on gunicorn with gevent workers."""

from __future__ import annotations

import argparse
import os
import sys

from runstream.entrypoints.config import ConfigError, load_config
from runstream.entrypoints.startup_check import (
    check_adapters_build,
    check_before_start,
    unreachable_database,
    uses_sql,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="default: 8080")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes, each holding thousands of streams (default: 1)",
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request to stderr"
    )


def run(args: argparse.Namespace) -> int:
    """Check the configuration and the SQL schema, then become the server.

    Every configuration error is raised here, before any worker starts (the CLI
    prints it as one line, exit status 2). The server runs in a fresh
    interpreter (exec): gevent must patch threading and sockets before anything
    imports them, and this process has already imported every subcommand.
    """
    config = load_config()
    if args.workers < 1 or not 0 < args.port < 65536:
        raise ConfigError("--workers must be at least 1 and --port 1 to 65535")
    if args.workers > 1 and "memory" in (
        config["event_log"]["backend"],
        config["run_repository"]["backend"],
    ):
        raise ConfigError(
            "the memory backends live in one process: use --workers 1, "
            "or RUNSTREAM_EVENT_LOG/RUNSTREAM_RUN_REPOSITORY=redis/sql"
        )
    check_before_start(config)
    problem = prepare_schema(config)
    if problem:
        print(f"runstream serve: {problem}", file=sys.stderr)
        return 1
    check_adapters_build(config)
    argv = [sys.executable, "-m", "runstream.entrypoints.http.server"]
    argv += ["--host", args.host, "--port", str(args.port)]
    argv += ["--workers", str(args.workers)]
    argv += ["--access-log"] if args.access_log else []
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached


def prepare_schema(config: dict) -> str | None:  # type: ignore[type-arg]
    """With an SQL backend: upgrade the embedded SQLite file in place; any other
    database must already be current (`runstream db upgrade`). Returns what is
    wrong, in one line, or None."""
    if not uses_sql(config):
        return None
    from runstream.adapters.mysql_legacy.engine import build_engine
    from runstream.adapters.mysql_legacy.legacy_shape import LegacySchemaMismatch
    from runstream.adapters.mysql_legacy.schema import (
        SchemaOutOfDate,
        ensure_current,
        upgrade,
    )
    from runstream.domain.errors import DomainError

    url = config["database"]["url"]
    try:
        engine = build_engine(url)
        try:
            if engine.dialect.name == "sqlite":
                upgrade(engine)
            else:
                ensure_current(engine)
        finally:
            engine.dispose()
    except (SchemaOutOfDate, LegacySchemaMismatch) as err:
        return str(err)
    except DomainError as err:
        return unreachable_database(url, err)
    return None
