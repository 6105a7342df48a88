"""What `runstream serve` and `runstream db` check before anything starts.

A worker that fails on its configuration dies with a traceback and takes the
service down with it; these checks run in the command's own process before any
worker forks, and each failure is one `ConfigError` line (exit status 2) naming
the variable. `load_config` already parsed every value and cross-checked those
that depend on each other; what is left needs more than the text of a value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from runstream.entrypoints.config import ConfigError

DATABASE_VARIABLE = "RUNSTREAM_DATABASE_URL"
# The module a DBAPI imports -> the distribution that provides it.
_DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "asyncpg": "asyncpg",
    "MySQLdb": "mysqlclient",
    "mysql": "mysql-connector-python",
    "mariadb": "mariadb",
    "pymysql": "pymysql",
    "oracledb": "oracledb",
    "cx_Oracle": "cx_Oracle",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
}

Config = dict[str, Any]


def check_before_start(config: Config) -> None:
    """Raise ConfigError for the first setting the service could not start with.

    Each check takes the config tree `load_config` built and raises ConfigError;
    add further ones (e.g. building the configured adapters) to CHECKS.
    """
    for check in CHECKS:
        check(config)


def uses_sql(config: Config) -> bool:
    """Whether any configured tier keeps something in the SQL database."""
    log = config["event_log"]
    tiers = (log.get("archive"), log["fallback"]) if log["backend"] == "redis" else ()
    return "sql" in (log["backend"], config["run_repository"]["backend"], *tiers)


def check_database_driver(config: Config) -> None:
    """With anything kept in SQL, the database URL is usable (check_driver)."""
    if uses_sql(config):
        check_driver(config["database"]["url"])


def check_driver(text: str) -> None:
    """The URL parses, names a dialect SQLAlchemy knows, and its driver imports."""
    url = database_url(text)
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"{DATABASE_VARIABLE}: unknown database dialect {url.drivername!r} "
            "(expected e.g. mysql+pymysql:// or sqlite:///)"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as err:
        module = (err.name or "").split(".")[0] or url.get_driver_name()
        package = _DRIVER_PACKAGES.get(module, module)
        raise ConfigError(
            f"{DATABASE_VARIABLE}: the {url.drivername} driver is not installed "
            f"(module {module!r}); install it with `pip install {package}`"
        ) from None


def database_url(text: str) -> URL:
    try:
        return make_url(text)
    except ArgumentError:
        raise ConfigError(
            f"{DATABASE_VARIABLE}: not a database URL (expected "
            "dialect+driver://user:password@host:port/database or sqlite:///path)"
        ) from None


def where_database_is(text: str) -> str:
    """The host and database of a URL, without its password, for messages."""
    url = database_url(text)
    if url.get_backend_name() == "sqlite":
        return f"file {url.database or ':memory:'}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"host {host}{port}, database {url.database or '(none)'}"


def unreachable_database(text: str, reason: object) -> str:
    """The one-line message for a database that did not answer."""
    where = where_database_is(text)
    return f"{DATABASE_VARIABLE}: cannot use the database at {where}: {reason}"


def check_adapters_build(config: Config) -> None:
    """Every selected adapter can be built from its settings (nothing connects
    and no thread starts, so the master process keeps no state of it)."""
    from runstream.entrypoints.adapter_check import check_adapters
    from runstream.entrypoints.container import Container

    container = Container()
    container.config.from_dict(config)
    try:
        check_adapters(container)
    finally:
        container.shutdown_resources()


CHECKS: list[Callable[[Config], None]] = [check_database_driver]
