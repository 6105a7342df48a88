"""Writers in several processes share one SQL event log without gaps."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from runstream.adapters.mysql_legacy.engine import build_engine
from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import Category, NewEvent
from tests.factories import new_run_id
from tests.support.sql_backend import session_engine

WRITERS = 8
EVENTS_PER_WRITER = 250


def _write(url: str, run_id: int, writer: int, start: Any) -> list[tuple[int, int]]:
    """One writer process: 250 events in batches of 1 to 9; what it was told."""
    engine = build_engine(url)
    log = SqlEventLog(engine)
    start.wait(60)  # a Barrier: raises BrokenBarrierError on timeout
    acknowledged, written, size = [], 0, 1 + writer % 9
    while written < EVENTS_PER_WRITER:
        batch = [
            NewEvent.build(Category.LLM, "stream", {"writer": writer, "n": n})
            for n in range(written, min(written + size, EVENTS_PER_WRITER))
        ]
        acknowledged += [(e.id.ms, e.id.seq) for e in log.append(run_id, batch)]
        written += len(batch)
        size = size % 9 + 1
    engine.dispose()
    return acknowledged


def _run_writers(url: str, run_id: int) -> list[list[tuple[int, int]]]:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(WRITERS)
        with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
            futures = [
                pool.submit(_write, url, run_id, writer, start)
                for writer in range(WRITERS)
            ]
            return [future.result(timeout=240) for future in futures]


@pytest.mark.parametrize(
    "kind", [pytest.param("mysql", marks=pytest.mark.mysql), "sqlite"]
)
def test_eight_writer_processes_get_gapless_sequences_and_increasing_ids(kind):
    engine = session_engine(kind)
    url = engine.url.render_as_string(hide_password=False)
    run_id = new_run_id()

    acknowledged = _run_writers(url, run_id)

    found = SqlEventLog(engine).read(run_id, MIN_ID, MAX_ID, 10_000)
    total = WRITERS * EVENTS_PER_WRITER
    assert [e.sequence for e in found] == list(range(1, total + 1))
    ids = [(e.id.ms, e.id.seq) for e in found]
    assert all(earlier < later for earlier, later in zip(ids, ids[1:], strict=False))
    assert sorted(sum(acknowledged, [])) == ids
    assert all(mine == sorted(mine) for mine in acknowledged)
    written = sorted((e.event.data["writer"], e.event.data["n"]) for e in found)
    assert written == [(w, n) for w in range(WRITERS) for n in range(EVENTS_PER_WRITER)]
