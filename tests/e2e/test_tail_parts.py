"""`runstream tail --agent/--category/--raw` against `runstream serve`."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.run_driver import (
    ExternalRun,
    history,
    local_service,
    runstream,
    texts_by_agent,
    token,
)

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A service and a finished run whose agents stream in bursts."""
    with local_service(tmp_path_factory.mktemp("tail"), "memory") as service:
        run = ExternalRun(service.url)
        run.append([token(agent, n) for agent in run.agents for n in range(10)])
        run.finish()
        yield service.url, run, history(service.url, run.id)


def tail_json(url: str, run_id: int, *options: str) -> list[dict]:
    command = [*runstream("tail"), str(run_id), "--url", url, "--json", *options]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_tail_replays_a_finished_run_coalesced_unless_raw(finished):
    url, run, events = finished

    merged = tail_json(url, run.id)
    raw = tail_json(url, run.id, "--raw")

    assert raw == events
    assert len(merged) == len(run.agents) + 2
    assert texts_by_agent(merged) == texts_by_agent(events)


def test_tail_shows_only_the_agents_asked_for_and_the_runs_end(finished):
    url, run, events = finished

    shown = tail_json(url, run.id, "--agent", "alpha-1", "--agent", "beta-1", "--raw")

    wanted = {"alpha-1", "beta-1"}
    assert shown == [
        e for e in events if (e["source"] or {}).get("agent_id") in wanted
    ] + [events[-1]]


def test_tail_shows_only_the_categories_asked_for(finished):
    url, run, events = finished

    shown = tail_json(url, run.id, "--category", "lifecycle")

    assert shown == [events[0], events[-1]]
