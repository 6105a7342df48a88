"""`runstream demo` on the embedded default, as a new user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.run_driver import local_service, runstream
from tests.support.timing import assert_within

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--teams", "1", "--workers", "2", "--tokens", "24", "--delay-ms", "5"]


def demo_env(**extra: str) -> dict[str, str]:
    """No RUNSTREAM_* settings but `extra`: the embedded default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNSTREAM_")}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def run_demo(
    folder: Path, *options: str, env: dict[str, str] | None = None
) -> tuple[int, str, float]:
    """Exit code, everything printed, and seconds until the run's first event."""
    started = time.monotonic()
    process = subprocess.Popen(
        [*runstream("demo"), *SMALL, *options],
        cwd=folder,
        env=env or demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines, first_event = [], None
    for line in process.stdout:
        lines.append(line)
        if first_event is None and re.match(r"\* run \d+ started", line):
            first_event = time.monotonic() - started
    return process.wait(60), "".join(lines), first_event or float("inf")


def test_demo_serves_runs_and_follows_a_simulated_run_to_its_end(tmp_path):
    code, output, first_event = run_demo(tmp_path)

    assert code == 0, output
    assert_within(first_event, 30, "the demo's first started run")
    assert re.search(r"http://127\.0\.0\.1:\d+/view/runs/\d+", output)
    assert "Research Worker 2: " in output
    assert "* run 1 completed" in output
    assert (tmp_path / "runstream.db").exists()


def test_demo_exits_non_zero_when_the_run_fails(tmp_path):
    code, output, _ = run_demo(tmp_path, "--fail-at", "streaming")

    assert code == 1, output
    assert re.search(
        r"^! run 1 failed: .*simulated failure during streaming", output, re.M
    )


def test_demo_can_use_a_service_that_is_already_running(tmp_path):
    with local_service(tmp_path, "memory") as service:
        code, output, _ = run_demo(tmp_path, "--url", service.url)
        runs = requests.get(f"{service.url}/runs", timeout=5).json()["runs"]

    assert code == 0, output
    assert "starting runstream serve" not in output
    assert [run["status"] for run in runs] == ["completed"]


def test_demo_with_authentication_on_uses_the_first_configured_key(tmp_path):
    env = demo_env(RUNSTREAM_API_KEYS="demo-key:demo,other:tenant")

    code, output, _ = run_demo(tmp_path, env=env)

    assert code == 0, output
    assert "* run 1 completed" in output
