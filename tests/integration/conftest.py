"""Fixtures shared by the integration tests on the machine's Redis."""

from collections.abc import Iterator

import pytest

from runstream.adapters.redis_stream.client import Client, redis_client
from runstream.adapters.redis_stream.codec import stream_key
from tests.factories import new_run_id
from tests.services import require_redis


@pytest.fixture
def client() -> Iterator[Client]:
    """A client on the machine's Redis; 5 s lets four writer processes share it."""
    resource = redis_client(require_redis(), cluster=False, timeout=5.0)
    yield next(resource)
    resource.close()


@pytest.fixture
def run_id(client: Client) -> Iterator[int]:
    """A fresh run id whose stream is deleted afterwards."""
    run_id = new_run_id()
    yield run_id
    client.delete(stream_key(run_id))
