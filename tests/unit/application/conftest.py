import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository


@pytest.fixture
def runs():
    return InMemoryRunRepository()


@pytest.fixture
def events():
    return InMemoryEventLog()
