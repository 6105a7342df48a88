"""The live-stream and JSON end-to-end tests again, on `runstream serve` (two
workers) over a 3-master Redis Cluster: the same tests, imported, with this
module's `server` fixture in place of the per-configuration one."""

from collections.abc import Iterator

import pytest
import requests

from runstream.adapters.redis_stream.codec import stream_key
from tests.e2e.test_live_operations import (  # noqa: F401 - collected here too
    test_health_and_readiness_name_the_serving_adapter,
)
from tests.e2e.test_live_service import (  # noqa: F401
    test_a_rejected_batch_leaves_no_event_behind,
    test_a_run_goes_from_creation_through_events_to_its_finish,
    test_cancelling_appends_cancelled_and_ends_the_run,
    test_history_between_bounds_is_inclusive,
    test_history_pages_by_next_id_visit_every_event_once_in_order,
)
from tests.e2e.test_live_stream import (  # noqa: F401
    test_a_finished_run_streams_its_events_then_close_with_sse_headers,
    test_an_idle_stream_sends_a_heartbeat_every_interval,
    test_errors_before_streaming_are_json,
    test_every_event_arrives_exactly_once_in_order_while_appends_race_the_connects,
    test_from_live_delivers_only_what_is_appended_after_connecting,
    test_the_start_position_is_the_header_then_the_query_then_the_first_event,
)
from tests.support.live_server import LiveServer
from tests.support.redis_cluster import cluster_service_env, shared_cluster

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """`runstream serve --workers 2` on the shared cluster, runs in SQLite."""
    with cluster_service_env(shared_cluster()) as env:
        live = LiveServer(env, workers=2)
        yield live
        live.stop()


def test_the_runs_of_one_service_live_on_every_master(server):
    cluster = shared_cluster()
    owners = set()
    for _ in range(12):
        run_id = requests.post(f"{server.url}/runs", json={"task": "t"}).json()["id"]
        owners.add(cluster.owner_of(stream_key(run_id)).port)

    assert owners == {node.port for node in cluster.masters()}
