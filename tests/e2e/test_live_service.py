"""Every JSON endpoint and error code of docs/contract.md §4 over real HTTP, against
`runstream serve` on memory, SQLite and Redis + MariaDB."""

import pytest
import requests

pytestmark = pytest.mark.e2e

EVENT = {
    "event": {"category": "llm", "action": "stream"},
    "source": {"agent_id": "r", "agent_type": "worker", "agent_name": "R",
               "team_name": "research"},
    "data": {"content": "Analysing the"},
}  # fmt: skip


def start(server, **body):
    response = requests.post(f"{server.url}/runs", json={"task": "t", **body})
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code
    assert isinstance(response.json()["message"], str)


def test_a_run_goes_from_creation_through_events_to_its_finish(server):
    created = requests.post(f"{server.url}/runs", json={"task": "t", "hierarchy_id": 3})
    run_id = created.json()["id"]
    one = requests.post(f"{server.url}/runs/{run_id}/events", json=EVENT)
    batch = requests.post(
        f"{server.url}/runs/{run_id}/events", json={"events": [EVENT] * 3}
    )
    finished = requests.post(
        f"{server.url}/runs/{run_id}/finish",
        json={"status": "completed", "result": {"answer": 42}, "statistics": {"n": 4}},
    )
    fetched = requests.get(f"{server.url}/runs/{run_id}").json()

    assert created.status_code == 201
    assert created.headers["Location"].endswith(f"/runs/{run_id}")
    assert (one.status_code, one.json()["sequences"]) == (201, [2])
    assert (batch.status_code, batch.json()["sequences"]) == (201, [3, 4, 5])
    assert finished.status_code == 200
    assert fetched["status"] == "completed"
    assert fetched["result"] == {"answer": 42}
    assert fetched["statistics"] == {"n": 4}
    assert fetched["hierarchy_id"] == 3
    assert fetched["completed_at"] >= fetched["started_at"]


def test_history_pages_by_next_id_visit_every_event_once_in_order(server):
    run_id = start(server)["id"]
    requests.post(f"{server.url}/runs/{run_id}/events", json={"events": [EVENT] * 9})
    seen, start_id = [], "-"

    while start_id is not None:
        page = requests.get(
            f"{server.url}/runs/{run_id}/events",
            params={"start_id": start_id, "limit": 4},
        ).json()
        assert page["count"] == len(page["events"])
        seen += page["events"]
        start_id = page["next_id"] if page["has_more"] else None

    assert [e["sequence"] for e in seen] == list(range(1, 11))
    assert seen[1]["source"] == EVENT["source"]
    assert seen[1]["timestamp"].endswith("Z")
    assert set(seen[1]) == {"id", "run_id", "timestamp", "sequence", "source",
                            "event", "data"}  # fmt: skip


def test_history_between_bounds_is_inclusive(server):
    run_id = start(server)["id"]
    ids = requests.post(
        f"{server.url}/runs/{run_id}/events", json={"events": [EVENT] * 4}
    ).json()["ids"]

    page = requests.get(
        f"{server.url}/runs/{run_id}/events",
        params={"start_id": ids[1], "end_id": ids[2]},
    ).json()

    assert [e["id"] for e in page["events"]] == ids[1:3]
    assert (page["has_more"], page["next_id"]) == (False, None)


def test_cancelling_appends_cancelled_and_ends_the_run(server):
    run_id = start(server)["id"]

    cancelled = requests.post(f"{server.url}/runs/{run_id}/cancel")
    events = requests.get(f"{server.url}/runs/{run_id}/events").json()["events"]

    assert cancelled.json()["status"] == "cancelled"
    assert events[-1]["event"] == {"category": "lifecycle", "action": "cancelled"}


def test_listing_shows_the_newest_runs_first(server):
    ids = [start(server)["id"] for _ in range(3)]

    listed = requests.get(f"{server.url}/runs", params={"limit": 2}).json()

    assert [r["id"] for r in listed["runs"]] == ids[::-1][:2]
    assert listed["next_before"] == ids[1]


def test_every_error_code_comes_back_as_a_json_body(server):
    run_id = start(server)["id"]
    done = start(server)["id"]
    requests.post(f"{server.url}/runs/{done}/cancel")
    url = server.url

    assert_error(requests.get(f"{url}/runs/999999999"), 404, "RUN_NOT_FOUND")
    assert_error(requests.get(f"{url}/runs/abc"), 404, "RUN_NOT_FOUND")
    assert_error(requests.post(f"{url}/runs", data="{oops"), 400, "INVALID_REQUEST")
    assert_error(
        requests.post(f"{url}/runs", json={"task": ""}), 400, "INVALID_REQUEST"
    )
    assert_error(
        requests.get(f"{url}/runs/{run_id}/events?start_id=x"), 400, "INVALID_EVENT_ID"
    )
    assert_error(
        requests.get(
            f"{url}/runs/{run_id}/events/stream", headers={"Last-Event-ID": "x"}
        ),
        400,
        "INVALID_EVENT_ID",
    )
    assert_error(
        requests.post(f"{url}/runs/{done}/events", json=EVENT), 409, "RUN_NOT_ACTIVE"
    )
    assert_error(requests.post(f"{url}/runs/{done}/cancel"), 409, "RUN_NOT_ACTIVE")
    big = {**EVENT, "data": {"content": "x" * (1024 * 1024)}}
    assert_error(
        requests.post(f"{url}/runs/{run_id}/events", json=big), 413, "EVENT_TOO_LARGE"
    )
    assert_error(requests.put(f"{url}/runs/{run_id}"), 405, "METHOD_NOT_ALLOWED")
    assert_error(requests.get(f"{url}/nothing/here"), 404, "NOT_FOUND")


def test_a_rejected_batch_leaves_no_event_behind(server):
    run_id = start(server)["id"]

    response = requests.post(
        f"{server.url}/runs/{run_id}/events",
        json={"events": [EVENT, {"event": {"category": "bad", "action": "x"}}]},
    )
    page = requests.get(f"{server.url}/runs/{run_id}/events").json()

    assert response.status_code == 400
    assert page["count"] == 1
