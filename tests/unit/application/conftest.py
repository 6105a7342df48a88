import pytest

from adapters.in_memory.event_log import InMemoryEventLog
from adapters.in_memory.run_repository import InMemoryRunRepository


@pytest.fixture
def runs():
    return InMemoryRunRepository()


@pytest.fixture
def events():
    return InMemoryEventLog()
