"""Servers for the end-to-end tests: one per configuration and session, plus
Flask test clients on the in-memory adapters for fast checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.apps import (
    API_KEYS,
    CONFIGS,
    MEMORY,
    close_app,
    make_app,
)
from tests.support.live_server import LiveServer


@pytest.fixture(scope="session", params=CONFIGS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """`runstream serve` on each configuration (memory, SQLite, Redis + MariaDB)."""
    with request.param() as env:
        live = LiveServer(env)
        yield live
        live.stop()


@pytest.fixture(scope="session")
def memory_server() -> Iterator[LiveServer]:
    live = LiveServer(MEMORY)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def auth_server() -> Iterator[LiveServer]:
    live = LiveServer({**MEMORY, "RUNSTREAM_API_KEYS": API_KEYS})
    yield live
    live.stop()


@pytest.fixture
def app():  # type: ignore[no-untyped-def]
    made = make_app()
    yield made
    close_app(made)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
