"""The SQL log's live wait and its use from other processes and under gevent."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import event

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.domain.ids import MAX_ID, MIN_ID
from tests.factories import new_run_id, started, token
from tests.support.polling import joined
from tests.support.sql_backend import session_engine

KINDS = [pytest.param("mysql", marks=pytest.mark.mysql), "sqlite"]
POLL = 0.2
ROOT = Path(__file__).resolve().parents[2]


def url_of(kind: str) -> str:
    return session_engine(kind).url.render_as_string(hide_password=False)


def _append_elsewhere(url: str, run_id: int) -> int:
    engine = build_engine(url)
    stored = SqlEventLog(engine).append(run_id, [token("from afar")])
    engine.dispose()
    return stored[0].sequence


@pytest.mark.parametrize("kind", KINDS)
def test_wait_sees_an_append_from_another_process_within_the_poll_interval(kind):
    log = SqlEventLog(session_engine(kind), poll_interval=POLL)
    run_id = new_run_id()
    first = log.append(run_id, [started()])[0]
    waiting, result = threading.Event(), {}

    def waiter() -> None:
        waiting.set()
        result.update(log.wait({run_id: first.id}, timeout=30))
        result["returned_at"] = time.time()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert waiting.wait(10)
    with ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        sequence = pool.submit(_append_elsewhere, url_of(kind), run_id).result(60)
    joined(thread, 30)

    appended = log.read(run_id, first.id.successor())
    assert sequence == 2
    assert result[run_id] == appended
    assert result["returned_at"] - appended[0].timestamp_ms / 1000 < POLL + 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_an_idle_wait_polls_at_most_once_per_poll_interval(kind):
    engine = session_engine(kind)
    log = SqlEventLog(engine, poll_interval=POLL)
    run_id = new_run_id()
    last = log.append(run_id, [started()])[-1]
    statements = []

    def count(*args: object) -> None:
        statements.append(args)

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = log.wait({run_id: last.id}, timeout=1.0)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert found == {}
    assert len(statements) <= 1.0 / POLL + 2


GEVENT_WRITERS = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import sys

    import gevent

    from runstream.adapters.mysql_legacy.engine import build_engine
    from runstream.adapters.mysql_legacy.event_log import SqlEventLog
    from runstream.domain.ids import MIN_ID
    from tests.factories import token

    url, run_id = sys.argv[1], int(sys.argv[2])
    log = SqlEventLog(build_engine(url))
    waiter = gevent.spawn(log.wait, {run_id: MIN_ID}, 30)

    def write(writer):
        for n in range(20):
            log.append(run_id, [token(f"{writer}-{n}")])

    writers = [gevent.spawn(write, w) for w in range(10)]
    gevent.joinall(writers + [waiter], timeout=60, raise_error=True)
    assert all(g.successful() for g in writers + [waiter])
    assert waiter.value, "the waiter saw the writers' events"
    """
)


@pytest.mark.parametrize("kind", KINDS)
def test_greenlets_under_gevent_append_and_wait_without_blocking_each_other(kind):
    run_id = new_run_id()

    finished = subprocess.run(
        [sys.executable, "-c", GEVENT_WRITERS, url_of(kind), str(run_id)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert finished.returncode == 0, finished.stderr
    found = SqlEventLog(session_engine(kind)).read(run_id, MIN_ID, MAX_ID, 10_000)
    assert [e.sequence for e in found] == list(range(1, 201))
