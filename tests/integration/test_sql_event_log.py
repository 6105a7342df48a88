"""SqlEventLog behaviour beyond the contract: its rows, expiry, big events."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.adapters.mysql_legacy.tables import execution_event, execution_event_log
from runstream.domain.envelope import DEFAULT_MAX_EVENT_BYTES, check_size
from runstream.domain.errors import InvalidRequest
from runstream.domain.ids import MIN_ID, EventId
from runstream.domain.model import Category, NewEvent, StoredEvent
from tests.factories import completed, new_run_id, started, token
from tests.support.sql_backend import session_engine

EPOCH = datetime(1970, 1, 1)
KINDS = [pytest.param("mysql", marks=pytest.mark.mysql), "sqlite"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01

    def __call__(self) -> float:
        return self.now


def rows_of(engine, run_id: int) -> int:
    counts = []
    with engine.connect() as conn:
        for table in (execution_event, execution_event_log):
            query = select(func.count()).where(table.c.run_id == run_id)
            counts.append(conn.execute(query).scalar_one())
    return sum(counts)


@pytest.mark.parametrize("kind", KINDS)
def test_an_event_of_about_one_mebibyte_round_trips(kind):
    log = SqlEventLog(session_engine(kind))
    run_id = new_run_id()
    unit = "Analyse 日本語 ✓ "
    text = unit * ((DEFAULT_MAX_EVENT_BYTES - 1024) // len(unit.encode()))
    big = NewEvent.build(Category.LLM, "stream", {"content": text})
    check_size(big, DEFAULT_MAX_EVENT_BYTES)

    stored = log.append(run_id, [started(), big])

    assert len(big.data_json.encode()) > DEFAULT_MAX_EVENT_BYTES - 2048
    assert log.read(run_id) == stored


@pytest.mark.parametrize("kind", KINDS)
def test_each_event_is_one_row_with_the_legacy_columns(kind):
    engine = session_engine(kind)
    run_id = new_run_id()
    stored = SqlEventLog(engine).append(run_id, [started(), token("hi")])[1]

    with engine.connect() as conn:
        query = select(execution_event).where(execution_event.c.sequence == 2)
        row = conn.execute(query.where(execution_event.c.run_id == run_id)).one()

    assert row.event_id == str(stored.id)
    assert (row.category, row.action, row.data) == (
        "llm",
        "stream",
        stored.event.data_json,
    )
    assert row.source_agent_type == "worker" and row.source_team_name == "research"
    assert row.timestamp == EPOCH + timedelta(milliseconds=stored.timestamp_ms)


@pytest.mark.parametrize("kind", KINDS)
def test_a_finished_log_reads_as_absent_once_its_ttl_has_passed(kind):
    engine, clock = session_engine(kind), Clock()
    log = SqlEventLog(engine, ttl_seconds=60, clock=clock)
    run_id = new_run_id()
    log.append(run_id, [started(), completed()])
    log.finish(run_id)

    clock.now += 59
    kept = (len(log.read(run_id)), log.info(run_id) is not None)
    clock.now += 1

    assert kept == (2, True)
    assert log.read(run_id) == []
    assert log.info(run_id) is None


def one_expired_one_live(kind: str) -> tuple[SqlEventLog, int, int]:
    """A log with a TTL of 1 s on its own clock, an expired run and a live one."""
    clock = Clock()
    log = SqlEventLog(session_engine(kind), ttl_seconds=1, clock=clock)
    expired, live = new_run_id(), new_run_id()
    for run_id in (expired, live):
        log.append(run_id, [started(), completed()])
    log.finish(expired)
    clock.now += 2
    return log, expired, live


# What the log does besides purging: its reads, and finishing another run.
TOUCHES = {
    "info": lambda log, expired, live: log.info(expired),
    "read": lambda log, expired, live: log.read(expired),
    "wait": lambda log, expired, live: log.wait({expired: MIN_ID}, timeout=0),
    "finish_another_run": lambda log, expired, live: log.finish(live),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("touch", TOUCHES.values(), ids=TOUCHES.keys())
def test_an_expired_log_keeps_its_rows_until_purged(kind, touch):
    engine = session_engine(kind)
    log, expired, live = one_expired_one_live(kind)
    rows = rows_of(engine, expired)

    touch(log, expired, live)

    assert rows > 0
    assert rows_of(engine, expired) == rows


@pytest.mark.parametrize("kind", KINDS)
def test_purging_deletes_the_rows_of_expired_logs_only(kind):
    engine = session_engine(kind)
    log, forgotten, kept = one_expired_one_live(kind)

    purged = log.purge_expired(limit=100_000)

    assert purged >= 1
    assert rows_of(engine, forgotten) == 0
    assert len(log.read(kept)) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_without_a_ttl_a_finished_log_is_kept(kind):
    clock = Clock()
    log = SqlEventLog(session_engine(kind), ttl_seconds=None, clock=clock)
    run_id = new_run_id()
    stored = log.append(run_id, [started(), completed()])
    log.finish(run_id)

    clock.now += 10 * 365 * 86400

    assert log.read(run_id) == stored


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_appended_to_after_expiry_starts_a_new_log(kind):
    clock = Clock()
    log = SqlEventLog(session_engine(kind), ttl_seconds=1, clock=clock)
    run_id = new_run_id()
    log.append(run_id, [started(), completed()])
    log.finish(run_id)
    clock.now += 2

    again = log.append(run_id, [started()])

    assert [e.sequence for e in again] == [1]
    assert log.read(run_id) == again


@pytest.mark.parametrize("kind", KINDS)
def test_store_refuses_ids_beyond_what_a_bigint_holds(kind):
    log = SqlEventLog(session_engine(kind))
    run_id = new_run_id()
    huge = StoredEvent(EventId(2**63, 0), run_id, 1, 0, started())

    with pytest.raises(InvalidRequest):
        log.store(run_id, [huge])

    assert log.info(run_id) is None
