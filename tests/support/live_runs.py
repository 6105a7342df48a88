"""Runs on a live server, through its HTTP API."""

from __future__ import annotations

import requests

from tests.support import tiers_harness
from tests.support.live_server import LiveServer


def start(server: LiveServer) -> int:
    return int(requests.post(f"{server.url}/runs", json={"task": "t"}).json()["id"])


def history(server: LiveServer, run_id: int) -> list[dict]:
    return tiers_harness.history(server.url, run_id)
