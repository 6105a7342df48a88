"""Runs on a live server, through its HTTP API."""

from __future__ import annotations

import requests

from tests.support.live_server import LiveServer


def start(server: LiveServer) -> int:
    return int(requests.post(f"{server.url}/runs", json={"task": "t"}).json()["id"])


def history(server: LiveServer, run_id: int) -> list[dict]:
    events, start_id = [], "-"
    while start_id is not None:
        page = requests.get(
            f"{server.url}/runs/{run_id}/events",
            params={"start_id": start_id, "limit": 10_000},
        ).json()
        events += page["events"]
        start_id = page["next_id"]
    return events
