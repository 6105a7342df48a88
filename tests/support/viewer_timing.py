"""How soon the run page has shown a large finished run (the viewer test and
`benchmarks.viewer` measure it the same way)."""

from __future__ import annotations

from tests.support.browser import CLOSED, assert_page_matches_history, browser_page
from tests.support.run_driver import ExternalRun, token

# When the page had shown everything (every event applied, the summary's figures
# and timeline drawn): its `runstream:closed` mark, in ms after navigation
# started (the Performance API's time origin), so the page measures itself.
CLOSED_AT = "performance.getEntriesByName('runstream:closed')[0].startTime"
EVENTS = 10_202  # a finished 10,000-event run's: started, 34 x 6 x 50, completed


def finished_10000_event_run(url: str) -> ExternalRun:
    run = ExternalRun(url)
    for round_number in range(34):  # 34 rounds x 6 agents x 50 chunks
        chunks = range(round_number * 50, round_number * 50 + 50)
        run.append([token(agent, n) for agent in run.agents for n in chunks])
    run.finish()
    return run


def complete_after(url: str, run: ExternalRun) -> float:
    """A fresh browser opens the run's page: when it had shown everything (ms)."""
    with browser_page() as page:
        page.goto(f"{url}/view/runs/{run.id}")
        page.wait_for_selector(CLOSED, timeout=60_000)
        assert_page_matches_history(page, url, run.id)
        assert int(page.get_attribute("body", "data-events")) == EVENTS
        return float(page.evaluate(CLOSED_AT))
