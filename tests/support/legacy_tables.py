"""The legacy `execution_run`/`execution_event` tables, made with plain SQL the
way the system runstream replaces made them, with some history in them."""

from __future__ import annotations

import json

from sqlalchemy import Engine, text

# (id_ms, id_seq, sequence, category, action, agent, data) per event
HISTORY = {
    1: [
        (1735732800000, 0, 1, "lifecycle", "started", None, {}),
        (1735732800005, 0, 2, "llm", "stream", "writer", {"content": "Hello, "}),
        (1735732800005, 1, 3, "llm", "stream", "writer", {"content": "world"}),
        (1735732800009, 0, 4, "lifecycle", "completed", None, {"result": "ok"}),
    ],
    2: [
        (1735732900000, 0, 1, "lifecycle", "started", None, {}),
        (1735732900003, 0, 2, "dispatch", "assigned", "writer", {"task": "draft"}),
    ],
}
RUNS = {1: "completed", 2: "running"}


def run_table(dialect: str, run_id: str | None = None) -> str:
    if run_id is None:
        run_id = (
            "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"
            if dialect != "sqlite"
            else "INTEGER NOT NULL PRIMARY KEY"
        )
    return f"""CREATE TABLE execution_run (
        id {run_id}, hierarchy_id BIGINT NULL, task TEXT NOT NULL,
        status VARCHAR(16) NOT NULL, executor VARCHAR(32) NOT NULL,
        params JSON NULL, tenant VARCHAR(191) NULL, result JSON NULL,
        error TEXT NULL, statistics JSON NULL, topology_snapshot JSON NULL,
        created_at DATETIME(6) NOT NULL, started_at DATETIME(6) NULL,
        completed_at DATETIME(6) NULL)"""


EVENT_TABLE = """CREATE TABLE execution_event (
    run_id BIGINT NOT NULL, id_ms BIGINT NOT NULL, id_seq BIGINT NOT NULL,
    event_id VARCHAR(41) NOT NULL, sequence BIGINT NOT NULL,
    timestamp DATETIME(3) NOT NULL, source_agent_id TEXT NULL,
    source_agent_type VARCHAR(32) NULL, source_agent_name TEXT NULL,
    source_team_name TEXT NULL, category VARCHAR(16) NOT NULL,
    action VARCHAR(64) NOT NULL, data LONGTEXT NOT NULL,
    PRIMARY KEY (run_id, id_ms, id_seq))"""


def create_legacy_tables(
    engine: Engine, event_table: str = EVENT_TABLE, runs: str | None = None
) -> None:
    with engine.begin() as conn:
        conn.execute(text(runs or run_table(engine.dialect.name)))
        conn.execute(text(event_table))


def add_history(engine: Engine) -> None:
    with engine.begin() as conn:
        for run_id, status in RUNS.items():
            done = "'2025-01-01 12:00:00.009000'" if status == "completed" else "NULL"
            conn.execute(
                text(
                    "INSERT INTO execution_run (id, task, status, executor, "
                    "created_at, started_at, completed_at) VALUES (:id, :task, "
                    f":status, 'external', '2025-01-01 12:00:00', "
                    f"'2025-01-01 12:00:00', {done})"
                ),
                {"id": run_id, "task": f"legacy run {run_id}", "status": status},
            )
            for event in HISTORY[run_id]:
                conn.execute(_INSERT_EVENT, _event_row(run_id, *event))


_INSERT_EVENT = text(
    "INSERT INTO execution_event (run_id, id_ms, id_seq, event_id, sequence, "
    "timestamp, source_agent_id, source_agent_type, source_agent_name, "
    "source_team_name, category, action, data) VALUES (:run_id, :id_ms, :id_seq, "
    ":event_id, :sequence, :timestamp, :agent, :agent_type, :agent_name, :team, "
    ":category, :action, :data)"
)


def _event_row(run_id: int, ms: int, seq: int, sequence: int, category: str,
               action: str, agent: str | None, data: dict) -> dict:  # fmt: skip
    millis = ms % 1000
    return {
        "run_id": run_id, "id_ms": ms, "id_seq": seq, "event_id": f"{ms}-{seq}",
        "sequence": sequence, "category": category, "action": action,
        "timestamp": f"2025-01-01 12:00:00.{millis:03d}000",
        "agent": agent, "agent_type": "worker" if agent else None,
        "agent_name": agent.title() if agent else None,
        "team": "writers" if agent else None, "data": json.dumps(data),
    }  # fmt: skip


def expected_ids(run_id: int) -> list[str]:
    return [f"{ms}-{seq}" for ms, seq, *_ in HISTORY[run_id]]
