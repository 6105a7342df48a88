"""`GET /runs/{run_id}/summary` follows the rules of `GET /runs/{run_id}`."""

import pytest

from tests.support.apps import API_KEYS, make_app

A = {"Authorization": "Bearer key-a"}
B = {"Authorization": "Bearer key-b"}


@pytest.fixture
def client():
    app = make_app(RUNSTREAM_API_KEYS=API_KEYS)
    yield app.test_client()
    app.container.fan_out_hub().close()


@pytest.fixture
def run_id(client):
    answer = client.post("/runs", json={"task": "t", "executor": "external"}, headers=A)
    return answer.json["id"]


def test_the_summary_of_a_new_run_counts_its_started_event(client, run_id):
    answer = client.get(f"/runs/{run_id}/summary", headers=A)

    assert answer.status_code == 200
    assert answer.json["events"] == 1
    assert answer.json["counts"] == {"lifecycle.started": 1}


def test_the_summary_grows_with_the_log(client, run_id):
    client.get(f"/runs/{run_id}/summary", headers=A)
    event = {"event": {"category": "system", "action": "notice"}, "data": {}}
    client.post(f"/runs/{run_id}/events", json=event, headers=A)

    answer = client.get(f"/runs/{run_id}/summary", headers=A)

    assert answer.json["counts"] == {"lifecycle.started": 1, "system.notice": 1}


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [({}, 401, "UNAUTHORIZED"), (B, 404, "RUN_NOT_FOUND")],
)
def test_the_summary_is_refused_like_the_run(client, run_id, headers, status, code):
    summary = client.get(f"/runs/{run_id}/summary", headers=headers)
    run = client.get(f"/runs/{run_id}", headers=headers)

    assert (summary.status_code, summary.json["code"]) == (status, code)
    assert (run.status_code, run.json["code"]) == (status, code)


def test_the_summary_of_an_unknown_run_is_not_found(client):
    answer = client.get("/runs/999999/summary", headers=A)

    assert (answer.status_code, answer.json["code"]) == (404, "RUN_NOT_FOUND")
