import os

import pytest
from hypothesis import HealthCheck, settings

from tests.support.tiered_backend import stop_archivers

settings.register_profile(
    "dev",
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# CI runs twice a developer's examples, with state machine runs as long as
# theirs: the contract state machines on every backend were the suite's
# longest part at 100 x 30 (the whole suite took 15 min on CI's machine).
settings.register_profile(
    "ci",
    max_examples=50,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _archivers_stopped():
    """Archivers a test made through tests.support.tiered_backend end with it."""
    yield
    stop_archivers()
