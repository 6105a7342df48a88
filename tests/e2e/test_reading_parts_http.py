"""Reading part of a run over real HTTP on memory, SQLite and Redis + MariaDB
(archive on, a run longer than the hot window): filters, coalesced replay,
resuming after a coalesced id, and the run summary."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.apps import MEMORY, sqlite_env
from tests.support.live_server import LiveServer
from tests.support.run_driver import texts_by_agent, token
from tests.support.sse_client import SseStream, follow

pytestmark = [pytest.mark.e2e]
HOT_WINDOW = 100
AGENTS = [
    {"agent_id": agent, "agent_type": "worker", "agent_name": agent.title(),
     "team_name": "research"}
    for agent in ("alpha", "beta", "gamma")
]  # fmt: skip
BURSTS = 12  # chunks an agent streams in a row
ROUNDS = 10


@contextlib.contextmanager
def redis_mariadb_env() -> Iterator[dict[str, str]]:
    from runstream.adapters.mysql_legacy.engine import build_engine
    from runstream.adapters.mysql_legacy.schema import upgrade
    from tests.services import require_mysql
    from tests.support.redis_server import RedisServer
    from tests.support.sql_backend import fresh_mysql_database

    with RedisServer() as redis, fresh_mysql_database(require_mysql()) as url:
        engine = build_engine(url)
        upgrade(engine)
        engine.dispose()
        yield {"RUNSTREAM_EVENT_LOG": "redis", "RUNSTREAM_RUN_REPOSITORY": "sql",
               "RUNSTREAM_DATABASE_URL": url, "RUNSTREAM_REDIS_URL": redis.url,
               "RUNSTREAM_EVENT_ARCHIVE": "sql",
               "RUNSTREAM_STREAM_MAXLEN": str(HOT_WINDOW)}  # fmt: skip


@contextlib.contextmanager
def memory_env() -> Iterator[dict[str, str]]:
    yield dict(MEMORY)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(memory_env, id="memory"),
        pytest.param(sqlite_env, id="sqlite"),
        pytest.param(
            redis_mariadb_env,
            id="redis_mariadb_archive",
            marks=[pytest.mark.redis, pytest.mark.mysql, pytest.mark.slow],
        ),
    ],
)
def finished_run(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, list]]:
    """A service and a finished run of about 400 events, with its raw history."""
    with request.param() as env:
        server = LiveServer(env)
        try:
            run_id = team_run(server.url)
            raw = history(server.url, run_id)
            assert len(raw) > 3 * HOT_WINDOW
            if "RUNSTREAM_REDIS_URL" in env:
                assert hot_length(env["RUNSTREAM_REDIS_URL"], run_id) < len(raw) / 2
            yield server.url, run_id, raw
        finally:
            server.stop()


def hot_length(redis_url: str, run_id: int) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.xlen(f"run:{run_id}:events"))
    finally:
        client.close()


def team_run(url: str) -> int:
    run = requests.post(f"{url}/runs", json={"task": "t", "executor": "external"})
    run_id = int(run.json()["id"])
    events: list[dict[str, Any]] = []
    for number in range(ROUNDS):
        for agent in AGENTS:
            events += [token(agent, number * BURSTS + i) for i in range(BURSTS)]
            events.append({"event": {"category": "dispatch", "action": "assigned"},
                           "source": agent, "data": {"to": "alpha"}})  # fmt: skip
    for start in range(0, len(events), 100):
        answer = requests.post(
            f"{url}/runs/{run_id}/events", json={"events": events[start : start + 100]}
        )
        assert answer.status_code == 201, answer.text
    done = requests.post(f"{url}/runs/{run_id}/finish", json={"status": "completed"})
    assert done.status_code == 200, done.text
    return run_id


def history(url: str, run_id: int, limit: int = 1000, **part: Any) -> list[dict]:
    events: list[dict[str, Any]] = []
    start: str | None = "-"
    while start is not None:
        params = {"start_id": start, "limit": limit, **part}
        answer = requests.get(f"{url}/runs/{run_id}/events", params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        events += answer.json()["events"]
        start = answer.json()["next_id"]
    return events


def merged_count(envelope: dict[str, Any]) -> int:
    return int((envelope["data"].get("coalesced") or {}).get("count", 1))


def test_a_coalesced_history_has_every_agents_text_in_fewer_events(finished_run):
    url, run_id, raw = finished_run

    merged = history(url, run_id, limit=7, coalesce="llm.stream")

    assert texts_by_agent(merged) == texts_by_agent(raw)
    assert sum(merged_count(e) for e in merged) == len(raw)
    assert len(merged) < len(raw) / 5
    assert {e["id"] for e in merged} <= {e["id"] for e in raw}


def test_a_filtered_history_is_the_agents_events_and_the_terminal_event(finished_run):
    url, run_id, raw = finished_run

    beta = history(url, run_id, limit=9, agent_id="beta")

    wanted = [e for e in raw if (e["source"] or {}).get("agent_id") == "beta"]
    assert beta == [*wanted, raw[-1]]


def test_a_filtered_coalesced_stream_resumes_exactly_after_a_coalesced_id(
    finished_run,
):
    url, run_id, raw = finished_run
    path = f"/runs/{run_id}/events/stream?agent_id=alpha&coalesce=llm.stream"
    frames, _ = follow(url, path)
    envelopes = [frame.json() for frame in frames]
    cut = next(i for i, e in enumerate(envelopes) if merged_count(e) > 1)

    rest, _ = follow(url, path, last_id=envelopes[cut]["id"])

    alpha = [e for e in raw if (e["source"] or {}).get("agent_id") == "alpha"]
    assert texts_by_agent(envelopes) == texts_by_agent(alpha)
    assert not [frame for frame in frames if frame.event == "gap"]
    assert envelopes[-1]["event"]["action"] == "completed"
    assert [frame.json() for frame in rest] == envelopes[cut + 1 :]


def test_the_summary_counts_every_event_and_each_agents_chunks(finished_run):
    url, run_id, raw = finished_run

    summary = requests.get(f"{url}/runs/{run_id}/summary", timeout=30).json()

    assert summary["events"] == len(raw)
    assert summary["status"] == "completed"
    chunks = {agent["agent_id"]: agent["chunks"] for agent in summary["agents"]}
    assert chunks == {agent["agent_id"]: BURSTS * ROUNDS for agent in AGENTS}
    received = {a["agent_id"]: a["dispatches_received"] for a in summary["agents"]}
    assert received["alpha"] == ROUNDS * len(AGENTS)


@pytest.mark.parametrize(
    "query", ["coalesce=llm.started", "category=tool", "agent_id="]
)
@pytest.mark.parametrize("endpoint", ["events", "events/stream"])
def test_a_bad_part_is_refused_with_invalid_request(finished_run, query, endpoint):
    url, run_id, _ = finished_run

    answer = requests.get(f"{url}/runs/{run_id}/{endpoint}?{query}", timeout=10)

    assert answer.status_code == 400
    assert answer.json()["code"] == "INVALID_REQUEST"


def test_a_coalesced_replay_of_events_the_hub_holds_sends_the_merged_text():
    server = LiveServer(MEMORY)
    try:
        url = server.url
        run = requests.post(f"{url}/runs", json={"task": "t", "executor": "external"})
        run_id = int(run.json()["id"])
        watcher = SseStream(url, f"/runs/{run_id}/events/stream?from=live")
        chunks = [token(AGENTS[0], i) for i in range(BURSTS)]
        requests.post(f"{url}/runs/{run_id}/events", json={"events": chunks})
        seen = [frame for _, frame in zip(chunks, watcher.events(), strict=False)]
        requests.post(f"{url}/runs/{run_id}/finish", json={"status": "completed"})
        path = f"/runs/{run_id}/events/stream?coalesce=llm.stream"

        frames, _ = follow(url, path)
        watcher.close()
    finally:
        server.stop()

    assert len(seen) == BURSTS
    merged = frames[1].json()
    assert merged["data"]["coalesced"]["count"] == BURSTS
    assert texts_by_agent([merged]) == texts_by_agent(chunks)


def test_a_filtered_live_stream_gets_only_the_agents_live_events_then_close():
    server = LiveServer(MEMORY)
    try:
        url = server.url
        run = requests.post(f"{url}/runs", json={"task": "t", "executor": "external"})
        run_id = int(run.json()["id"])
        stream = SseStream(url, f"/runs/{run_id}/events/stream?agent_id=beta")
        frames = stream.frames()
        first = next(frames)  # the stream is open: what follows arrives live
        for number in range(3):
            batch = [token(agent, number) for agent in AGENTS]
            requests.post(f"{url}/runs/{run_id}/events", json={"events": batch})
        requests.post(f"{url}/runs/{run_id}/finish", json={"status": "completed"})
        rest = [frame for frame in frames if frame.event is not None]
        stream.close()
    finally:
        server.stop()

    events = [frame for frame in [first, *rest] if frame.event is not None]
    kinds = [frame.event for frame in events]
    assert kinds == ["llm.stream"] * 3 + ["lifecycle.completed", "close"]
    agents = {frame.json()["source"]["agent_id"] for frame in events[:3]}
    assert agents == {"beta"}
