"""A process killed while it plays a simulated run: another process of the
fleet ends the run as failed once the owner's lease lapsed (issue 14)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.fleet_harness import fleet_of_two, kill_hard
from tests.support.polling import wait_until
from tests.support.redis_server import RedisServer
from tests.support.tiers_harness import await_status, history

pytestmark = [pytest.mark.redis, pytest.mark.mysql, pytest.mark.e2e, pytest.mark.slow]
SLOW_RUN = {
    "task": "outlive its process",
    "executor": "simulated",
    "params": {"teams": 1, "workers_per_team": 1, "tokens_per_worker": 2000,
               "chunk_delay_ms": 50, "seed": 5},
}  # fmt: skip
LEASE_SECONDS = 3.0


def test_a_run_whose_process_was_killed_ends_failed_with_owner_lost():
    lease = {"RUNSTREAM_RUN_LEASE_SECONDS": str(LEASE_SECONDS)}
    with RedisServer() as redis, fleet_of_two(redis, **lease) as fleet:
        run = requests.post(f"{fleet.a.url}/runs", json=SLOW_RUN, timeout=10).json()
        assert run["status"] == "running"
        wait_until(lambda: len(history(fleet.b.url, run["id"])) > 10, "tokens", 15)

        kill_hard(fleet.a)
        killed_at = time.monotonic()
        status = await_status(fleet.b.url, run["id"], timeout=LEASE_SECONDS * 8)
        took = time.monotonic() - killed_at
        log = history(fleet.b.url, run["id"])

    assert status == "failed"
    assert took < LEASE_SECONDS * 4
    assert log[-1]["event"] == {"category": "lifecycle", "action": "failed"}
    assert log[-1]["data"]["reason"] == "owner lost"
    assert [e["sequence"] for e in log] == list(range(1, len(log) + 1))
