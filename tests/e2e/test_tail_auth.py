"""`runstream tail` and `runstream demo` with authentication on."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from tests.support.run_driver import local_service, runstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KEYS = "key-a:tenant-a,key-b:tenant-b"


@pytest.fixture
def auth_service(tmp_path):
    with local_service(tmp_path, "memory", RUNSTREAM_API_KEYS=KEYS) as service:
        yield service


def finished_run(url: str, key: str) -> int:
    bearer = {"Authorization": f"Bearer {key}"}
    body = {"task": "a private run", "executor": "external"}
    run_id = int(requests.post(f"{url}/runs", json=body, headers=bearer).json()["id"])
    finish = {"status": "completed"}
    requests.post(f"{url}/runs/{run_id}/finish", json=finish, headers=bearer)
    return run_id


def tail(url: str, run_id: int, key: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNSTREAM_")}
    if key is not None:
        env["RUNSTREAM_API_KEY"] = key
    command = [*runstream("tail"), str(run_id), "--url", url]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_tail_sends_the_key_from_the_environment_as_a_bearer_token(auth_service):
    run_id = finished_run(auth_service.url, "key-a")

    followed = tail(auth_service.url, run_id, "key-a")

    assert followed.returncode == 0, followed.stderr
    assert "* run" in followed.stdout and "completed" in followed.stdout


def test_tail_without_a_key_is_refused_and_another_tenant_sees_no_run(auth_service):
    run_id = finished_run(auth_service.url, "key-a")

    anonymous = tail(auth_service.url, run_id)
    stranger = tail(auth_service.url, run_id, "key-b")

    assert anonymous.returncode == 5 and "UNAUTHORIZED" in anonymous.stderr
    assert stranger.returncode == 4 and "RUN_NOT_FOUND" in stranger.stderr
