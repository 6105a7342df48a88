"""`Idempotency-Key` on appends, finish and cancel, through the Flask test client."""

import pytest

EVENT = {"event": {"category": "llm", "action": "stream"}, "data": {"content": "x"}}


def start(client):
    response = client.post("/runs", json={"task": "t", "executor": "external"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def keyed(key):
    return {"Idempotency-Key": key}


def test_a_repeated_append_answers_201_with_the_first_ids_and_stores_nothing(client):
    run_id = start(client)
    first = client.post(f"/runs/{run_id}/events", json=EVENT, headers=keyed("a-1"))

    again = client.post(
        f"/runs/{run_id}/events",
        data='{"data": {"content": "x"},  "event": {"action": "stream", '
        '"category": "llm"}}',
        content_type="application/json",
        headers=keyed("a-1"),
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    history = client.get(f"/runs/{run_id}/events").json
    assert [e["sequence"] for e in history["events"]] == [1, 2]


def test_a_key_repeated_with_another_body_is_422(client):
    run_id = start(client)
    client.post(f"/runs/{run_id}/events", json=EVENT, headers=keyed("a-1"))

    other = {**EVENT, "data": {"content": "y"}}
    response = client.post(f"/runs/{run_id}/events", json=other, headers=keyed("a-1"))

    assert response.status_code == 422
    assert response.json["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize("key", ["", "x" * 129, "caf\u00e9", "tab\tkey"])
def test_a_malformed_key_is_an_invalid_request(client, key):
    run_id = start(client)

    response = client.post(
        f"/runs/{run_id}/events",
        json=EVENT,
        headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")},
    )

    assert response.status_code == 400
    assert response.json["code"] == "INVALID_REQUEST"
    assert client.get(f"/runs/{run_id}/events").json["count"] == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [("finish", {"status": "completed", "result": {"n": 1}}), ("cancel", None)],
)
def test_a_repeated_finish_or_cancel_answers_like_the_first_time(client, path, body):
    run_id = start(client)
    first = client.post(f"/runs/{run_id}/{path}", json=body, headers=keyed("end"))

    again = client.post(f"/runs/{run_id}/{path}", json=body, headers=keyed("end"))
    unkeyed = client.post(f"/runs/{run_id}/{path}", json=body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert unkeyed.status_code == 409


def test_an_append_retried_after_the_run_finished_still_replays(client):
    run_id = start(client)
    first = client.post(f"/runs/{run_id}/events", json=EVENT, headers=keyed("late"))
    client.post(f"/runs/{run_id}/finish", json={"status": "completed"})

    again = client.post(f"/runs/{run_id}/events", json=EVENT, headers=keyed("late"))

    assert again.status_code == 201
    assert again.json == first.json
