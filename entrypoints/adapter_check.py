"""Building the selected adapters at startup, so a setting they cannot use
stops the service, naming the variable, instead of failing requests later."""

from __future__ import annotations

from collections.abc import Callable

from runstream.entrypoints.config import ConfigError
from runstream.entrypoints.container import Container

_SQL_TIERS = ("sql", "archived", "failover")
_REDIS_TIERS = ("redis", "archived", "failover")
_REDIS_LOG = (
    "RUNSTREAM_STREAM_MAXLEN, RUNSTREAM_EVENT_TTL_SECONDS, "
    "RUNSTREAM_REDIS_MIN_REPLICAS or RUNSTREAM_REDIS_REPLICA_TIMEOUT_MS"
)


def check_adapters(container: Container) -> None:
    """Build every adapter the configuration selects; ConfigError names the
    variable behind one that cannot be built.

    Nothing connects: a database or a lone Redis connects on first use, and a
    Redis Cluster (whose client reads the slot map when built) only has its
    seed URLs checked. Threads start only with `container.background()`, so
    a container checked before the service forks can be shut down and dropped.
    """
    layout = container.tier_layout()
    config = container.config
    if layout in _SQL_TIERS or config.run_repository.backend() == "sql":
        _build("RUNSTREAM_DATABASE_URL", container.sql_engine)
        _build("RUNSTREAM_ARCHIVE_RETENTION_SECONDS", container.sql_event_log)
    if layout in _REDIS_TIERS and config.redis.cluster():
        _build("RUNSTREAM_REDIS_URL", lambda: _check_seeds(config.redis.url()))
    elif layout in _REDIS_TIERS:
        _build("RUNSTREAM_REDIS_URL", container.redis_client)
        _build(_REDIS_LOG, container.redis_stream_log)
    _build("RUNSTREAM_EVENT_LOG", container.event_log)
    _build("RUNSTREAM_RUN_REPOSITORY", container.run_repository)
    _build("RUNSTREAM_API_KEYS or RUNSTREAM_TOKEN_SECRET", container.authenticator)


def _check_seeds(url: str) -> None:
    from runstream.adapters.redis_stream.client import check_seeds

    check_seeds(url)


def _build(variables: str, build: Callable[[], object]) -> None:
    try:
        build()
    except ConfigError:
        raise
    except Exception as err:
        raise ConfigError(f"{variables}: {err}") from err
