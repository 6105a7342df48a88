"""`runstream tail` against `runstream serve` in a subprocess, restarted mid-run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.polling import wait_until
from tests.support.run_driver import (
    ExternalRun,
    history,
    local_service,
    runstream,
    texts_by_agent,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def start_tail():
    """Starts `runstream tail` with its output in a file; ends leftovers after."""
    started: list[subprocess.Popen] = []

    def start(url: str, run_id: int, out: Path, *options: str) -> subprocess.Popen:
        command = [*runstream("tail"), str(run_id), "--url", url, "--give-up", "60"]
        with open(out, "wb") as sink:
            process = subprocess.Popen(
                [*command, *options], stdout=sink, stderr=subprocess.PIPE
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def texts_printed(output: str, names: set[str]) -> dict[str, str]:
    """Each agent's text from `Name: text` lines (other lines are events)."""
    texts: dict[str, str] = {}
    for line in output.split("\n"):
        name, colon, text = line.partition(": ")
        if colon and name in names:
            texts[name] = texts.get(name, "") + text
    return texts


def test_tail_survives_a_service_restart_and_prints_the_complete_text_once(
    tmp_path, start_tail
):
    with local_service(tmp_path) as service:
        run = ExternalRun(service.url)
        run.speak(range(20))
        text_out, json_out = tmp_path / "tail.txt", tmp_path / "tail.jsonl"
        tails = [
            start_tail(service.url, run.id, text_out),
            start_tail(service.url, run.id, json_out, "--json"),
        ]
        wait_until(
            lambda: (
                "beta-1·0019" in text_out.read_text()
                and "beta-1·0019" in json_out.read_text()
            ),
            "both tails to print the first 20 rounds",
            timeout=30,
        )

        service.stop()
        service.start()
        run.speak(range(20, 40))
        run.finish()
        codes = [tail.wait(60) for tail in tails]
        events = history(service.url, run.id)

    stderr = [tail.stderr.read().decode() for tail in tails if tail.stderr]
    assert codes == [0, 0], stderr
    assert any("reconnecting" in err for err in stderr)
    printed = [json.loads(line) for line in json_out.read_text().splitlines()]
    assert [event["id"] for event in printed] == [event["id"] for event in events]
    names = {agent["agent_name"] for agent in run.agents}
    expected = texts_by_agent(events, key="agent_name")
    assert texts_printed(text_out.read_text(), names) == expected


def test_tail_exits_with_distinct_codes_for_failed_and_unknown_runs(
    tmp_path, start_tail
):
    with local_service(tmp_path) as service:
        run = ExternalRun(service.url)
        run.speak(range(2))
        run.finish("failed", error="the model gave up")
        out = tmp_path / "failed.txt"
        failed = start_tail(service.url, run.id, out).wait(30)
        missing = start_tail(service.url, run.id + 1000, tmp_path / "none.txt")
        missing_code = missing.wait(30)

    assert failed == 1
    assert "! run" in out.read_text() and "the model gave up" in out.read_text()
    assert missing_code == 4
