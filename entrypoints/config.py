"""Configuration from `RUNSTREAM_*` environment variables (docs/contract.md §5).

Every variable has a working default; an unknown choice, a malformed number or
two settings that contradict each other is a startup error, one line that names
the variable and what it accepts (docs/configuration.md, "Errors and exit codes").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values


class ConfigError(Exception):
    """A configuration variable with a value the service cannot use."""


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        if value not in allowed:
            raise ConfigError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
        return value

    return parse


_KIND_NAMES = {int: "an integer", float: "a number"}


def _number(kind: type, low: float) -> Callable[[str, str], Any]:
    def parse(name: str, value: str) -> Any:
        try:
            number = kind(value)
        except ValueError:
            raise ConfigError(
                f"{name}={value!r}: expected {_KIND_NAMES[kind]}"
            ) from None
        if number < low:
            raise ConfigError(f"{name}={value!r}: must be at least {low}")
        return number

    return parse


def _flag(name: str, value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r}: expected 1/0, true/false, yes/no or on/off")


def _text(name: str, value: str) -> str:
    return value


def _api_keys(name: str, value: str) -> str:
    """Checked here, so a malformed list stops the start instead of each worker.
    The message never repeats a key."""
    pairs = [part.strip() for part in value.split(",") if part.strip()]
    for position, pair in enumerate(pairs, start=1):
        key, sep, tenant = pair.partition(":")
        if not sep or not key.strip() or not tenant.strip():
            raise ConfigError(
                f"{name}: entry {position} of {len(pairs)} is not key:tenant "
                "(expected comma-separated key:tenant pairs)"
            )
    return value


# (variable, default, parser, path in the config tree)


def _retention(name: str, value: str) -> float | None:
    seconds = _number(float, 0)(name, value)
    return None if seconds == 0 else float(seconds)


SETTINGS: tuple[tuple[str, str, Callable[[str, str], Any], str], ...] = (
    (
        "RUNSTREAM_EVENT_LOG",
        "sql",
        _choice("redis", "sql", "memory"),
        "event_log.backend",
    ),
    (
        "RUNSTREAM_EVENT_LOG_FALLBACK",
        "none",
        _choice("sql", "none"),
        "event_log.fallback",
    ),
    (
        "RUNSTREAM_RUN_REPOSITORY",
        "sql",
        _choice("sql", "memory"),
        "run_repository.backend",
    ),
    ("RUNSTREAM_EVENT_ARCHIVE", "sql", _choice("sql", "none"), "event_log.archive"),
    (
        "RUNSTREAM_ARCHIVE_RETENTION_SECONDS",
        "0",
        _retention,
        "event_log.retention_seconds",
    ),
    ("RUNSTREAM_REDIS_URL", "redis://localhost:6379/0", _text, "redis.url"),
    ("RUNSTREAM_REDIS_CLUSTER", "0", _flag, "redis.cluster"),
    ("RUNSTREAM_REDIS_TIMEOUT_SECONDS", "2", _number(float, 0.25), "redis.timeout"),
    ("RUNSTREAM_REDIS_MIN_REPLICAS", "0", _number(int, 0), "redis.min_replicas"),
    (
        "RUNSTREAM_REDIS_REPLICA_TIMEOUT_MS",
        "500",
        _number(int, 1),
        "redis.replica_timeout_ms",
    ),
    ("RUNSTREAM_DATABASE_URL", "sqlite:///runstream.db", _text, "database.url"),
    ("RUNSTREAM_STREAM_MAXLEN", "10000", _number(int, 1), "event_log.maxlen"),
    ("RUNSTREAM_EVENT_TTL_SECONDS", "86400", _number(int, 1), "event_log.ttl_seconds"),
    ("RUNSTREAM_MAX_EVENT_BYTES", "1048576", _number(int, 256), "events.max_bytes"),
    (
        "RUNSTREAM_HEARTBEAT_SECONDS",
        "15",
        _number(float, 0.01),
        "sse.heartbeat",
    ),
    ("RUNSTREAM_RUN_LEASE_SECONDS", "10", _number(float, 1.0), "runs.lease_seconds"),
    (
        "RUNSTREAM_EXTERNAL_RUN_IDLE_SECONDS",
        "86400",
        _number(float, 0),
        "runs.external_idle_seconds",
    ),
    ("RUNSTREAM_API_KEYS", "", _api_keys, "auth.api_keys"),
    ("RUNSTREAM_TOKEN_SECRET", "", _text, "auth.token_secret"),
    (
        "RUNSTREAM_DEFAULT_EXECUTOR",
        "external",
        _choice("simulated", "external"),
        "runs.default_executor",
    ),
    ("RUNSTREAM_MAX_BODY_BYTES", "8388608", _number(int, 1024), "http.max_body_bytes"),
    ("RUNSTREAM_BODY_TIMEOUT_SECONDS", "30", _number(float, 0.1), "http.body_timeout"),
)


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables a .env file sets, parsed the way shells and other tools
    read it (python-dotenv): `export NAME=value`, quotes, `# comments`."""
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The config tree: defaults, overlaid by `.env`, overlaid by the environment.

    With `environ` given, only that mapping is read (no `.env`, no process env).
    """
    if environ is None:
        source = {**read_dotenv(Path(".env")), **os.environ}
    else:
        source = dict(environ)
    tree: dict[str, Any] = {}
    for name, default, parse, path in SETTINGS:
        value = parse(name, source.get(name, default))
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    _check_together(tree)
    return tree


def _check_together(tree: dict[str, Any]) -> None:
    """Settings that are each fine alone but contradict each other."""
    redis = tree["redis"]
    if redis["min_replicas"] and redis["replica_timeout_ms"] >= redis["timeout"] * 1000:
        raise ConfigError(
            f"RUNSTREAM_REDIS_REPLICA_TIMEOUT_MS={redis['replica_timeout_ms']}: "
            "must be below RUNSTREAM_REDIS_TIMEOUT_SECONDS "
            f"({redis['timeout']:g} s) when RUNSTREAM_REDIS_MIN_REPLICAS is set, "
            "or every WAIT for replicas is cut short"
        )


def describe() -> list[tuple[str, str]]:
    """(variable, default) for every setting, for docs and `--help`."""
    return [(name, default) for name, default, _, _ in SETTINGS]
