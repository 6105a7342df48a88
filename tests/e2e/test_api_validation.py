"""Fast checks through the Flask test client: every malformed input gets the
contract's error body, never an HTML page or a 500."""

import pytest

EVENT = {"event": {"category": "llm", "action": "stream"}, "data": {"content": "x"}}


def start(client, **body):
    response = client.post("/runs", json={"task": "write a report", **body})
    assert response.status_code == 201, response.json
    return response.json


def assert_error(response, status, code):
    assert response.status_code == status, response.data
    assert response.is_json
    assert set(response.json) == {"code", "message"}
    assert response.json["code"] == code
    assert response.json["message"]


def test_creating_a_run_answers_201_with_its_location_and_fields(client):
    response = client.post("/runs", json={"task": "t", "hierarchy_id": 7})

    assert response.status_code == 201
    assert response.headers["Location"] == f"/runs/{response.json['id']}"
    assert list(response.json) == [
        "id", "hierarchy_id", "task", "status", "result", "error", "statistics",
        "topology_snapshot", "created_at", "started_at", "completed_at",
    ]  # fmt: skip
    assert response.json["hierarchy_id"] == 7
    assert response.json["status"] == "running"
    assert response.json["created_at"].endswith("Z")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"task": ""},
        {"task": "x" * 10_001},
        {"task": 5},
        {"task": "t", "executor": "quantum"},
        {"task": "t", "executor": 3},
        {"task": "t", "hierarchy_id": "7"},
        {"task": "t", "hierarchy_id": True},
        {"task": "t", "hierarchy_id": -1},
        {"task": "t", "hierarchy_id": 2**70},
        {"task": "t", "params": []},
        {"task": "t", "surprise": 1},
    ],
)
def test_a_malformed_run_request_is_invalid(client, body):
    assert_error(client.post("/runs", json=body), 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[1, 2]", b'"task"', b"null", b"[" * 100_000, b'{"task": NaN}',
     b"\xff\xfe\x00", b'{"task": "t"} trailing'],
)  # fmt: skip
def test_a_body_that_is_not_a_json_object_is_invalid(client, raw):
    response = client.post("/runs", data=raw, content_type="application/json")

    assert_error(response, 400, "INVALID_REQUEST")


def test_a_body_over_the_size_limit_is_too_large(client):
    huge = b'{"task": "' + b"x" * (1024 * 1024 + 70_000) + b'"}'

    assert_error(client.post("/runs", data=huge), 413, "EVENT_TOO_LARGE")


@pytest.mark.parametrize("run_id", ["abc", "0", "-1", "1.5", "99999999999999999999"])
def test_a_run_id_that_is_not_a_positive_integer_is_not_found(client, run_id):
    assert_error(client.get(f"/runs/{run_id}"), 404, "RUN_NOT_FOUND")
    assert_error(client.get(f"/runs/{run_id}/events"), 404, "RUN_NOT_FOUND")
    assert_error(client.get(f"/runs/{run_id}/events/stream"), 404, "RUN_NOT_FOUND")


def test_an_unknown_path_and_a_wrong_method_answer_in_json(client):
    assert_error(client.get("/nowhere"), 404, "NOT_FOUND")
    response = client.delete("/runs")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "limit=x", "limit=-1", "limit=" + "9" * 40,
     "status=weird", "before=0", "before=abc"],
)  # fmt: skip
def test_listing_with_a_bad_parameter_is_invalid(client, query):
    assert_error(client.get(f"/runs?{query}"), 400, "INVALID_REQUEST")


def test_listing_pages_newest_first_with_a_before_cursor(client):
    ids = [start(client)["id"] for _ in range(5)]

    first = client.get("/runs?limit=2").json
    second = client.get(f"/runs?limit=2&before={first['next_before']}").json
    last = client.get(f"/runs?limit=2&before={second['next_before']}").json

    assert [r["id"] for r in first["runs"]] == ids[::-1][:2]
    assert [r["id"] for r in second["runs"]] == ids[::-1][2:4]
    assert [r["id"] for r in last["runs"]] == ids[:1]
    assert last["next_before"] is None


def test_listing_filters_by_status(client):
    done = start(client)["id"]
    start(client)
    client.post(f"/runs/{done}/cancel")

    listed = client.get("/runs?status=cancelled").json["runs"]

    assert [r["id"] for r in listed] == [done]


@pytest.mark.parametrize(
    "body",
    [
        {"event": {"category": "nope", "action": "x"}},
        {"event": {"category": "llm", "action": "Bad"}},
        {"event": {"category": "llm", "action": "stream"}, "data": []},
        {"event": {"category": "llm", "action": "stream"}, "source": {"agent_id": 1}},
        {"event": {"category": "lifecycle", "action": "completed"}},
        {"events": []},
        {"events": [EVENT] * 1001},
        {"events": "x"},
        {"events": [EVENT], "event": EVENT["event"]},
        {"events": [EVENT, 5]},
    ],
)
def test_a_malformed_event_is_invalid(client, body):
    run_id = start(client)["id"]

    assert_error(
        client.post(f"/runs/{run_id}/events", json=body), 400, "INVALID_REQUEST"
    )


def test_an_event_over_the_size_limit_is_too_large(client):
    run_id = start(client)["id"]
    big = {**EVENT, "data": {"content": "x" * (1024 * 1024)}}

    response = client.post(f"/runs/{run_id}/events", json=big)

    assert_error(response, 413, "EVENT_TOO_LARGE")


def test_a_batch_body_over_the_batch_limit_is_refused_before_parsing(client):
    run_id = start(client)["id"]
    client.application.container.config.events.max_bytes.override(300)
    body = b'{"events": [' + b" " * 400_000 + b"]}"

    response = client.post(f"/runs/{run_id}/events", data=body)

    assert_error(response, 413, "EVENT_TOO_LARGE")


def test_a_batch_is_appended_whole_with_its_ids_and_sequences(client):
    run_id = start(client)["id"]

    response = client.post(f"/runs/{run_id}/events", json={"events": [EVENT] * 3})

    assert response.status_code == 201
    assert response.json["sequences"] == [2, 3, 4]
    assert len(set(response.json["ids"])) == 3


@pytest.mark.parametrize(
    "query, code",
    [("start_id=abc", "INVALID_EVENT_ID"), ("end_id=1-", "INVALID_EVENT_ID"),
     ("start_id=%2B%2B", "INVALID_EVENT_ID"), ("limit=0", "INVALID_REQUEST"),
     ("limit=10001", "INVALID_REQUEST"), ("limit=1e3", "INVALID_REQUEST")],
)  # fmt: skip
def test_history_with_a_bad_parameter_names_the_problem(client, query, code):
    run_id = start(client)["id"]

    assert_error(client.get(f"/runs/{run_id}/events?{query}"), 400, code)


@pytest.mark.parametrize(
    "body",
    [{}, {"status": "cancelled"}, {"status": "completed", "error": 5},
     {"status": "failed", "statistics": [1]}, {"status": "completed", "x": 1}],
)  # fmt: skip
def test_a_malformed_finish_is_invalid(client, body):
    run_id = start(client)["id"]

    assert_error(
        client.post(f"/runs/{run_id}/finish", json=body), 400, "INVALID_REQUEST"
    )


def test_finishing_twice_or_appending_after_the_end_is_not_active(client):
    run_id = start(client)["id"]
    client.post(f"/runs/{run_id}/finish", json={"status": "failed", "error": "boom"})

    finish = client.post(f"/runs/{run_id}/finish", json={"status": "completed"})
    cancel = client.post(f"/runs/{run_id}/cancel")
    append = client.post(f"/runs/{run_id}/events", json=EVENT)

    for response in (finish, cancel, append):
        assert_error(response, 409, "RUN_NOT_ACTIVE")


def test_a_finish_whose_outcome_is_over_the_size_limit_is_too_large(client):
    run_id = start(client)["id"]
    body = {"status": "completed", "result": "x" * (1024 * 1024)}

    assert_error(
        client.post(f"/runs/{run_id}/finish", json=body), 413, "EVENT_TOO_LARGE"
    )
    assert client.get(f"/runs/{run_id}").json["status"] == "running"


@pytest.mark.parametrize(
    "query, headers",
    [("last_event_id=nope", {}), ("", {"Last-Event-ID": "12"}),
     ("", {"Last-Event-ID": "-"})],
)  # fmt: skip
def test_a_stream_from_a_bad_position_is_refused_before_streaming(
    client, query, headers
):
    run_id = start(client)["id"]

    response = client.get(f"/runs/{run_id}/events/stream?{query}", headers=headers)

    assert_error(response, 400, "INVALID_EVENT_ID")


def test_a_stream_with_an_unknown_from_is_invalid(client):
    run_id = start(client)["id"]

    response = client.get(f"/runs/{run_id}/events/stream?from=yesterday")

    assert_error(response, 400, "INVALID_REQUEST")


def test_an_unexpected_failure_is_a_json_internal_error(app, client):
    from dependency_injector import providers

    class Broken:
        def execute(self, *args, **kwargs):
            raise RuntimeError("boom")

    app.container.get_run.override(providers.Object(Broken()))

    assert_error(client.get("/runs/1"), 500, "INTERNAL_ERROR")
