"""The run page's timeline, agent filter and coalesced replay in headless Chromium."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import (
    AGENT_TEXTS,
    CLOSED,
    assert_page_matches_history,
    browser_page,
    screenshot,
)
from tests.support.run_driver import (
    ExternalRun,
    history,
    local_service,
    texts_by_agent,
    token,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LANES = "#timeline .lane"
SPAN_MS = "Number(document.querySelector('#timeline').dataset.spanMs || 0)"
# When the page had shown everything (every event applied, the summary's figures
# and timeline drawn): its `runstream:closed` mark, in ms after navigation
# started (the Performance API's time origin), so the page measures itself.
CLOSED_AT = "performance.getEntriesByName('runstream:closed')[0].startTime"


@pytest.fixture
def memory_service(tmp_path):
    with local_service(tmp_path, "memory") as service:
        yield service


@pytest.fixture
def page():
    with browser_page() as opened:
        yield opened


def simulated_team(url: str) -> int:
    body = {"task": "Compare three suppliers", "executor": "simulated",
            "params": {"teams": 2, "workers_per_team": 2, "tokens_per_worker": 160,
                       "chunk_delay_ms": 25, "seed": 7}}  # fmt: skip
    answer = requests.post(f"{url}/runs", json=body, timeout=10)
    answer.raise_for_status()
    return int(answer.json()["id"])


def test_the_timeline_shows_one_lane_per_agent_and_grows_live(memory_service, page):
    url = memory_service.url
    run_id = simulated_team(url)
    page.goto(f"{url}/view/runs/{run_id}")
    page.wait_for_selector("body[data-stream-state=live][data-run-status=running]")
    page.wait_for_function(f"{SPAN_MS} > 0")
    early = page.evaluate(SPAN_MS)

    page.wait_for_function(f"{SPAN_MS} > {early} + 500")
    page.wait_for_selector(CLOSED, timeout=60_000)

    summary = requests.get(f"{url}/runs/{run_id}/summary", timeout=10).json()
    agents = {agent["agent_id"] for agent in summary["agents"]}
    lanes = page.eval_on_selector_all(LANES, "rows => rows.map(r => r.dataset.agentId)")
    assert sorted(lanes) == sorted(agents)
    assert len(agents) == 7  # a supervisor, two team leads, four workers
    for worker in ("research-worker-1", "research-worker-2"):
        assert page.locator(f"{LANES}[data-agent-id={worker}] rect.span").count()
    assert page.locator(f"{LANES} line.end").count() == len(agents)
    assert page.locator(f"{LANES} line.dispatch").count() >= 4
    figures = page.locator("#agent-figures tr[data-agent-id]")
    assert figures.count() == len(agents)
    assert_page_matches_history(page, url, run_id)
    print("screenshot:", screenshot(page, "run-timeline"))


def test_filtering_to_one_agent_shows_only_its_text(memory_service, page):
    url = memory_service.url
    run = ExternalRun(url)
    run.speak(range(30))
    run.finish()
    page.goto(f"{url}/view/runs/{run.id}")
    page.wait_for_selector(CLOSED)
    page.wait_for_selector("#agent-filter option[value=alpha-2]", state="attached")

    page.select_option("#agent-filter", "alpha-2")
    page.wait_for_url("**agent_id=alpha-2")
    page.wait_for_selector(CLOSED)

    everything = texts_by_agent(history(url, run.id))
    assert page.evaluate(AGENT_TEXTS) == {"alpha-2": everything["alpha-2"]}
    assert page.input_value("#agent-filter") == "alpha-2"
    assert page.locator("#notices .gap").count() == 0


def finished_10000_event_run(url: str) -> ExternalRun:
    run = ExternalRun(url)
    for round_number in range(34):  # 34 rounds x 6 agents x 50 chunks
        chunks = range(round_number * 50, round_number * 50 + 50)
        run.append([token(agent, n) for agent in run.agents for n in chunks])
    run.finish()
    return run


def complete_after(url: str, run: ExternalRun) -> float:
    """A fresh browser opens the run's page: when it had shown everything."""
    with browser_page() as page:
        page.goto(f"{url}/view/runs/{run.id}")
        page.wait_for_selector(CLOSED, timeout=60_000)
        assert_page_matches_history(page, url, run.id)
        assert int(page.get_attribute("body", "data-events")) == 10_202
        return float(page.evaluate(CLOSED_AT))


def test_a_finished_10000_event_run_is_interactive_within_a_second(memory_service):
    url = memory_service.url
    figures: list[float] = []

    # The machine may be busy with other work: a page of a fresh run (whose
    # summary nobody asked for yet) is opened up to three times, until one is
    # complete within the second.
    while len(figures) < 3 and not any(figure <= 1000 for figure in figures):
        figures.append(complete_after(url, finished_10000_event_run(url)))

    shown = ", ".join(f"{figure:.0f} ms" for figure in figures)
    print(f"a finished 10,202-event run's page complete after {shown}")
    assert min(figures) <= 1000, f"the page was complete after {shown}"
