"""Writers in separate processes share one run's log without gaps or repeats."""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest

from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from tests.factories import token
from tests.services import require_redis
from tests.support.polling import joined

pytestmark = [pytest.mark.redis, pytest.mark.slow]

WRITERS = 4
APPENDS = 2_500


def _append_many(url: str, run_id: int, go: Barrier, acked: Queue) -> None:
    resource = redis_client(url, cluster=False, timeout=5.0)
    log = RedisStreamEventLog(next(resource), maxlen=2 * WRITERS * APPENDS)
    go.wait(60)  # a Barrier: raises BrokenBarrierError on timeout
    ids = [str(log.append(run_id, [token(str(n))])[0].id) for n in range(APPENDS)]
    acked.put(ids)
    resource.close()


def test_four_processes_appending_get_sequences_one_to_ten_thousand(client, run_id):
    context = multiprocessing.get_context("spawn")
    go, acked = context.Barrier(WRITERS), context.Queue()
    writers = [
        context.Process(target=_append_many, args=(require_redis(), run_id, go, acked))
        for _ in range(WRITERS)
    ]
    for writer in writers:
        writer.start()

    acknowledged = [acked.get(timeout=120) for _ in writers]
    for writer in writers:
        joined(writer, 30)

    found = RedisStreamEventLog(client).read(run_id, limit=2 * WRITERS * APPENDS)
    ids = [e.id for e in found]
    assert [writer.exitcode for writer in writers] == [0] * WRITERS
    assert [e.sequence for e in found] == list(range(1, WRITERS * APPENDS + 1))
    assert all(a < b for a, b in zip(ids, ids[1:], strict=False))
    assert sorted(str(i) for i in ids) == sorted(i for got in acknowledged for i in got)
