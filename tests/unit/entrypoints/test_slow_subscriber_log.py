import logging
import threading

from runstream.domain.errors import SubscriberLagged
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.live.wsgi_body import BodyWait, WsgiStream
from tests.factories import new_run_id


class Hub:
    def frame(self, event):  # pragma: no cover - no event reaches it
        raise AssertionError("no event expected")


def lagging_feed():
    raise SubscriberLagged(f"run {new_run_id()}: 2000 events behind")
    yield  # a generator


def test_a_dropped_slow_subscriber_is_one_log_line_without_a_traceback(caplog):
    metrics = Metrics()
    body = WsgiStream(lagging_feed(), BodyWait(Hub(), 15.0), metrics, threading.Event())

    with caplog.at_level(logging.INFO, logger="runstream.entrypoints.live"):
        chunks = list(body)

    dropped = [r for r in caplog.records if "slow subscriber" in r.getMessage()]
    assert chunks == [b""]
    assert len(dropped) == 1
    assert dropped[0].exc_info is None and "\n" not in dropped[0].getMessage()
