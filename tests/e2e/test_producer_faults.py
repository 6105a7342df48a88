"""The producer client through faults: a service restart, a Redis outage with
the SQL fallback, connections cut mid-request. Each emitted event ends up in
the run's log exactly once, in emit order."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from tests.support.producer_faults import SteadyAgent, streamed
from tests.support.redis_server import RedisServer
from tests.support.run_driver import local_service
from tests.support.tcp_proxy import TcpProxy
from tests.support.tiers_harness import history, tiered_service

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def assert_logged_exactly_once(url: str, agent: SteadyAgent, finished, report):
    events = history(url, agent.run.id)
    assert finished["status"] == "completed"
    assert report.ok, report.undelivered[:3]
    assert report.stored == len(agent.texts)
    assert streamed(events) == agent.texts
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))


def test_a_service_restart_loses_and_repeats_nothing(tmp_path):
    with local_service(tmp_path, "sqlite") as service:
        agent = SteadyAgent(service.url, total=1500)
        agent.await_stored(300)

        service.stop()
        stored_while_down = agent.stored()
        service.start()
        finished, report = agent.finish()

        assert stored_while_down < len(agent.texts)
        assert_logged_exactly_once(service.url, agent, finished, report)


@pytest.mark.redis
def test_a_redis_outage_with_the_sql_fallback_loses_and_repeats_nothing():
    with (
        RedisServer() as redis,
        tiered_service(redis, RUNSTREAM_EVENT_LOG_FALLBACK="sql") as service,
    ):
        agent = SteadyAgent(service.url, total=2000)
        agent.await_stored(300)

        redis.stop()
        agent.await_stored(agent.stored() + 300)
        redis.start()
        finished, report = agent.finish()

        assert_logged_exactly_once(service.url, agent, finished, report)


def cut_repeatedly(proxy: TcpProxy, times: int, cuts: list[int]) -> None:
    """Cut every connection `times` times, 0.2 s apart, while requests flow."""
    for _ in range(times):
        time.sleep(0.2)
        proxy.cut()
        cuts.append(1)
        proxy.restore()


def test_connections_cut_mid_request_store_every_event_once(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="runstream.producer")
    with local_service(tmp_path, "sqlite") as service:
        proxy = TcpProxy((service.host, service.port))
        agent = SteadyAgent(
            f"http://127.0.0.1:{proxy.port}", total=2000, per_second=400
        )
        cuts: list[int] = []
        cutter = threading.Thread(target=cut_repeatedly, args=(proxy, 20, cuts))
        cutter.start()

        cutter.join(60)
        finished, report = agent.finish()
        proxy.close()

        assert not cutter.is_alive()
        assert len(cuts) == 20
        # The cuts reached the client: a request or the stream broke (a stream
        # cut with nothing in flight is reopened when needed, not retried).
        noticed = [r.getMessage() for r in caplog.records]
        assert any("retrying" in m or "producer stream:" in m for m in noticed)
        assert_logged_exactly_once(service.url, agent, finished, report)
