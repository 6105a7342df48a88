"""Fixtures giving each contract test every adapter of its port (the lists
of adapters are in tests.support.backends)."""

from __future__ import annotations

import pytest

from tests.support.backends import (
    LOG_BACKENDS,
    RUN_BACKENDS,
    LogBackend,
    RunBackend,
)
from tests.support.tiered_backend import stop_archivers


@pytest.fixture(params=LOG_BACKENDS)
def log_backend(request: pytest.FixtureRequest) -> LogBackend:
    backend: LogBackend = request.param()
    return backend


@pytest.fixture
def event_log(log_backend: LogBackend):
    """A fresh adapter; the runs the test touched are purged afterwards."""
    from tests.factories import new_run_id

    first = new_run_id()
    yield log_backend.make()
    stop_archivers()  # before the purge: what they flush is purged too
    log_backend.purge(range(first, new_run_id() + 1))


@pytest.fixture(params=RUN_BACKENDS)
def run_backend(request: pytest.FixtureRequest) -> RunBackend:
    backend: RunBackend = request.param()
    return backend


@pytest.fixture
def runs(run_backend: RunBackend):
    return run_backend.make()
