"""The viewer with authentication on: a key typed in, a stream token per run."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import browser_page
from tests.support.run_driver import local_service

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KEY = "key-a"
BEARER = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def auth_service(tmp_path):
    with local_service(tmp_path, "memory", RUNSTREAM_API_KEYS=f"{KEY}:tenant-a") as s:
        yield s


@pytest.fixture
def page():
    with browser_page() as opened:
        yield opened


def test_the_run_page_asks_for_a_key_then_streams_the_run_with_a_token(
    auth_service, page
):
    url = auth_service.url
    body = {"task": "a private run", "executor": "external"}
    run_id = requests.post(f"{url}/runs", json=body, headers=BEARER).json()["id"]
    stream_requests: list[str] = []
    page.on(
        "request",
        lambda r: stream_requests.append(r.url) if "/stream" in r.url else None,
    )
    page.goto(f"{url}/view/runs/{run_id}")

    page.fill("#auth input[name=key]", KEY)
    page.click("#auth button[type=submit]")
    page.wait_for_selector("body[data-stream-state=live]")
    requests.post(
        f"{url}/runs/{run_id}/finish", json={"status": "completed"}, headers=BEARER
    )
    page.wait_for_selector("body[data-stream-state=closed]")

    assert page.text_content("#run-task") == "a private run"
    assert page.evaluate("sessionStorage.getItem('runstream.apiKey')") == KEY
    assert any("access_token=" in address for address in stream_requests)


def test_the_run_list_asks_for_a_key_and_lists_that_tenants_runs(auth_service, page):
    url = auth_service.url
    body = {"task": "listed", "executor": "external"}
    run_id = requests.post(f"{url}/runs", json=body, headers=BEARER).json()["id"]
    page.goto(f"{url}/view/")

    page.fill("#auth input[name=key]", KEY)
    page.click("#auth button[type=submit]")

    page.wait_for_selector(f"tr[data-run-id='{run_id}']")
