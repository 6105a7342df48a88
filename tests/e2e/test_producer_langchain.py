"""A LangGraph team in its own process, through the producer client into
`runstream serve`: every token once and in order in the history, the SSE stream
and the viewer, with the team's hierarchy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.browser import (
    CLOSED,
    assert_page_matches_history,
    browser_page,
    screenshot,
)
from tests.support.langchain_agent import TEAMS
from tests.support.live_server import ROOT
from tests.support.run_driver import history, local_service, texts_by_agent
from tests.support.sse_client import follow

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TREE = (
    "li[data-agent-id=supervisor] li[data-agent-id=research] li[data-agent-id=analyst]"
)


@pytest.fixture
def service(tmp_path):
    with local_service(tmp_path, "sqlite") as running:
        yield running


@pytest.fixture
def agent_run(service):
    """The agent process started; yields (process, run id) once it has a run."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.langchain_agent", service.url],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield process, int(process.stdout.readline())
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def ended(process) -> dict:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    return json.loads(out)


def test_every_token_is_in_the_history_and_the_stream_once_in_order(service, agent_run):
    process, run_id = agent_run

    frames, _ = follow(service.url, f"/runs/{run_id}/events/stream")
    report = ended(process)
    events = history(service.url, run_id)

    texts = texts_by_agent(events)
    assert report["ok"]
    assert texts["analyst"] == TEAMS["research"]["analyst"]
    assert texts["checker"] == TEAMS["research"]["checker"]
    assert texts["writer"] == TEAMS["writing"]["writer"]
    assert [f.json() for f in frames] == events
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert report["stored"] == len(events) - 2
    assert events[-1]["event"] == {"category": "lifecycle", "action": "completed"}


def test_the_viewer_shows_the_team_and_each_agents_text(service, agent_run):
    process, run_id = agent_run
    with browser_page() as page:
        page.goto(f"{service.url}/view/runs/{run_id}")
        ended(process)
        page.wait_for_selector(CLOSED, timeout=60_000)

        assert_page_matches_history(page, service.url, run_id)
        assert page.locator(TREE).count() == 1
        writer = "li[data-agent-id=supervisor] li[data-agent-id=writing] "
        assert page.locator(writer + "li[data-agent-id=writer]").count() == 1
        analyst = page.text_content(f"{TREE} > pre.text")
        assert analyst == TEAMS["research"]["analyst"]
        assert page.text_content("#run-status") == "completed"
        screenshot(page, "langgraph-team")
