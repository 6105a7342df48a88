"""An external run that a test drives through the HTTP API, and its history."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from runstream.entrypoints.tailing.local_service import LocalService

TEAMS = {"alpha": ("alpha-1", "alpha-2"), "beta": ("beta-1",)}


def source(agent_id: str, agent_type: str, team: str) -> dict[str, str]:
    name = agent_id.replace("-", " ").title()
    return {"agent_id": agent_id, "agent_type": agent_type,
            "agent_name": name, "team_name": team}  # fmt: skip


def hierarchy() -> list[dict[str, str]]:
    """A global supervisor, a lead per team, and the teams' workers."""
    agents = [source("supervisor", "global_supervisor", "global")]
    for team, workers in TEAMS.items():
        agents.append(source(f"{team}-lead", "team_supervisor", team))
        agents += [source(worker, "worker", team) for worker in workers]
    return agents


def token(agent: dict[str, str], number: int) -> dict[str, Any]:
    # Mixed scripts, so the test sees that encoding survives every hop.
    content = f"{agent['agent_id']}·{number:04d} 数据 "
    return {"event": {"category": "llm", "action": "stream"},
            "source": agent, "data": {"content": content}}  # fmt: skip


class ExternalRun:
    """A run with executor `external`: the test appends its events and ends it."""

    def __init__(self, base_url: str, task: str = "an external test run") -> None:
        self.base_url = base_url
        body = {"task": task, "executor": "external"}
        answer = requests.post(f"{base_url}/runs", json=body, timeout=10)
        answer.raise_for_status()
        self.id = int(answer.json()["id"])
        self.agents = hierarchy()

    def append(self, events: list[dict[str, Any]]) -> None:
        url = f"{self.base_url}/runs/{self.id}/events"
        answer = requests.post(url, json={"events": events}, timeout=10)
        answer.raise_for_status()

    def speak(self, rounds: range) -> None:
        """One token of every agent per round, in batches of up to 1000."""
        events = [token(agent, n) for n in rounds for agent in self.agents]
        for start in range(0, len(events), 1000):
            self.append(events[start : start + 1000])

    def finish(self, status: str = "completed", error: str | None = None) -> None:
        body: dict[str, Any] = {"status": status}
        if error is not None:
            body["error"] = error
        url = f"{self.base_url}/runs/{self.id}/finish"
        requests.post(url, json=body, timeout=10).raise_for_status()


def history(base_url: str, run_id: int) -> list[dict[str, Any]]:
    """Every event of the run, following `next_id` from the start."""
    events: list[dict[str, Any]] = []
    start: str | None = "-"
    while start is not None:
        params: dict[str, str | int] = {"start_id": start, "limit": 1000}
        answer = requests.get(
            f"{base_url}/runs/{run_id}/events", params=params, timeout=10
        )
        answer.raise_for_status()
        page = answer.json()
        events += page["events"]
        start = page["next_id"] if page["has_more"] else None
    return events


def texts_by_agent(
    events: list[dict[str, Any]], key: str = "agent_id"
) -> dict[str, str]:
    """Each agent's streamed text, as the concatenation of its llm.stream chunks."""
    texts: dict[str, str] = {}
    for event in events:
        kind = event["event"]
        if (kind["category"], kind["action"]) == ("llm", "stream") and event["source"]:
            who = event["source"][key]
            texts[who] = texts.get(who, "") + str(event["data"].get("content", ""))
    return texts


def runstream(command: str) -> list[str]:
    """The argv of `runstream <command>` in this interpreter."""
    return [sys.executable, "-m", "runstream.entrypoints.cli", command]


def service_env(folder: Path, backend: str = "sqlite", **extra: str) -> dict[str, str]:
    """This process's environment without RUNSTREAM_* settings, on the memory
    adapters or on a SQLite file in `folder` (so a restarted service finds its
    data again)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNSTREAM_")}
    env["RUNSTREAM_HEARTBEAT_SECONDS"] = "1"
    if backend == "memory":
        env.update(RUNSTREAM_EVENT_LOG="memory", RUNSTREAM_RUN_REPOSITORY="memory")
    else:
        env.update(
            RUNSTREAM_EVENT_LOG="sql",
            RUNSTREAM_RUN_REPOSITORY="sql",
            RUNSTREAM_DATABASE_URL=f"sqlite:///{folder / 'runstream.db'}",
        )
    env.update(extra)
    return env


@contextmanager
def local_service(
    folder: Path, backend: str = "sqlite", **extra: str
) -> Iterator[LocalService]:
    """`runstream serve` in a subprocess; its log is `serve.log` in `folder`."""
    service = LocalService(
        env=service_env(folder, backend, **extra),
        log_path=folder / "serve.log",
        command=runstream("serve"),
    )
    service.start()
    try:
        yield service
    finally:
        service.stop()
