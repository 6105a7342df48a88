"""Moving in from the legacy tables: `runstream db upgrade` adopts them, and the
service serves their history through the API and the SSE replay."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from runstream.adapters.mysql_legacy.engine import sql_engine
from tests.services import require_mysql
from tests.support.legacy_tables import (
    HISTORY,
    add_history,
    create_legacy_tables,
    expected_ids,
)
from tests.support.run_driver import local_service, runstream, service_env
from tests.support.sql_backend import fresh_mysql_database
from tests.support.sse_client import SseStream

pytestmark = pytest.mark.e2e


@pytest.fixture(params=[pytest.param("mysql", marks=pytest.mark.mysql), "sqlite"])
def legacy_database(request, tmp_path) -> Iterator[str]:
    """The URL of a fresh database holding the legacy tables and their history."""
    if request.param == "mysql":
        fresh = fresh_mysql_database(require_mysql())
        url = fresh.__enter__()
        request.addfinalizer(lambda: fresh.__exit__(None, None, None))
    else:
        url = f"sqlite:///{tmp_path / 'legacy.db'}"
    resource = sql_engine(url)
    engine = next(resource)
    create_legacy_tables(engine)
    add_history(engine)
    resource.close()
    return url


def db_upgrade(folder: Path, url: str) -> subprocess.CompletedProcess:
    env = service_env(folder, RUNSTREAM_DATABASE_URL=url)
    return subprocess.run(
        [*runstream("db"), "upgrade"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_service_serves_a_legacy_history_after_db_upgrade(
    legacy_database, tmp_path
):
    upgraded = db_upgrade(tmp_path, legacy_database)

    assert upgraded.returncode == 0, upgraded.stderr
    with local_service(tmp_path, RUNSTREAM_DATABASE_URL=legacy_database) as service:
        run = requests.get(f"{service.url}/runs/1", timeout=10).json()
        page = requests.get(f"{service.url}/runs/1/events", timeout=10).json()
        replay = SseStream(service.url, "/runs/1/events/stream")
        frames = list(replay.events())
        replay.close()
        appended = requests.post(
            f"{service.url}/runs/2/events",
            json={"event": {"category": "llm", "action": "stream"},
                  "source": None, "data": {"content": "after the move"}},
            timeout=10,
        )  # fmt: skip

    assert run["status"] == "completed" and run["task"] == "legacy run 1"
    assert [event["id"] for event in page["events"]] == expected_ids(1)
    assert [event["sequence"] for event in page["events"]] == [1, 2, 3, 4]
    assert page["events"][1]["data"] == {"content": "Hello, "}
    assert page["events"][1]["source"]["agent_id"] == "writer"
    assert [frame.id for frame in frames[:-1]] == expected_ids(1)
    assert frames[-1].event == "close" and replay.ended_cleanly
    assert appended.status_code == 201, appended.text
    assert appended.json()["sequences"] == [len(HISTORY[2]) + 1]
