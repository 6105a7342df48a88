"""Two processes, one Redis, one MariaDB, the SQL fallback on: whether Redis
fails for one process or for all of them at different moments, one run
appended through both keeps one log (issue 14)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.fleet_harness import (
    AlternatingProducer,
    fleet_of_two,
    histories,
    log_violations,
)
from tests.support.polling import wait_until
from tests.support.redis_server import RedisServer
from tests.support.tiers_harness import start_thread

pytestmark = [pytest.mark.redis, pytest.mark.mysql, pytest.mark.e2e, pytest.mark.slow]
OUTAGE_SECONDS = 5.0


def cut_link_of_a(fleet, redis) -> None:
    fleet.link_a.cut()
    time.sleep(OUTAGE_SECONDS)
    fleet.link_a.restore()


def stop_redis(fleet, redis) -> None:
    redis.stop()
    time.sleep(OUTAGE_SECONDS)
    redis.start()
    # The proxy stops accepting once Redis refused it a connection: reopen it.
    fleet.link_a.cut()
    fleet.link_a.restore()


def acknowledged(producer: AlternatingProducer, count: int) -> None:
    wait_until(lambda: len(producer.acknowledged) >= count, f"{count} appends", 30)


def failovers(url: str) -> float:
    metrics = requests.get(f"{url}/metrics", timeout=10).text
    line = next(
        x
        for x in metrics.splitlines()
        if x.startswith("runstream_event_log_failovers ")
    )
    return float(line.split()[1])


@pytest.mark.parametrize(
    ("outage", "cut_off_alone"),
    [
        pytest.param(cut_link_of_a, True, id="one_process_cut_off"),
        pytest.param(stop_redis, False, id="redis_stopped_for_all"),
    ],
)
def test_one_run_appended_through_two_processes_keeps_one_log(outage, cut_off_alone):
    with RedisServer(appendonly=True) as redis, fleet_of_two(redis) as fleet:
        run = requests.post(
            f"{fleet.b.url}/runs", json={"task": "one log", "executor": "external"},
            timeout=10,
        ).json()  # fmt: skip
        producer = AlternatingProducer(fleet.urls, run["id"])
        thread = start_thread(producer.run)
        acknowledged(producer, 5)

        outage(fleet, redis)
        acknowledged(producer, len(producer.acknowledged) + 5)
        producer.stop.set()
        thread.join(timeout=30)
        finished = requests.post(
            f"{fleet.b.url}/runs/{run['id']}/finish", json={"status": "completed"},
            timeout=30,
        )  # fmt: skip
        logs = histories(fleet.urls, run["id"])
        switches = failovers(fleet.b.url)

    assert not thread.is_alive()
    assert finished.status_code == 200, finished.text
    assert len(producer.acknowledged) >= 10
    assert log_violations(logs, producer.acknowledged) == []
    assert logs[0][-1]["event"] == {"category": "lifecycle", "action": "completed"}
    if cut_off_alone:
        assert switches == 0
        assert producer.refusals[503] > 0
