"""The real services tests talk to: found on this machine, never faked.

On a developer machine without a service its tests skip with a reason; in CI
(`CI=true`) an unreachable service fails them instead.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

REDIS_URL = os.environ.get("RUNSTREAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
MYSQL_SERVER_URL = os.environ.get(
    "RUNSTREAM_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@functools.cache
def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(name: str, host: str, port: int) -> None:
    """Skip (fail in CI) unless the service answers on host:port."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if in_ci():
        pytest.fail(message + " (CI requires every service)")
    pytest.skip(message)


def _require_url(name: str, url: str, default_port: int) -> str:
    parts = urlsplit(url)
    require(name, parts.hostname or "127.0.0.1", parts.port or default_port)
    return url


def require_redis() -> str:
    return _require_url("Redis", REDIS_URL, 6379)


def require_mysql() -> str:
    return _require_url("MariaDB", MYSQL_SERVER_URL, 3306)


def require_program(name: str) -> str:
    """The path of program `name`; skip (fail in CI) when it is not installed."""
    found = shutil.which(name)
    if found is not None:
        return found
    message = f"{name} is not installed (needed to start throwaway servers)"
    if in_ci():
        pytest.fail(message + " (CI requires every service)")
    pytest.skip(message)
