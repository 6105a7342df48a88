"""The HTTP edge through the Flask test client: bodies that are not clean JSON,
foreign content types, out-of-range event ids, merged slashes, the OpenAPI
document, and the bounds of simulated runs."""

import json

import pytest

import runstream

EVENT = {"event": {"category": "llm", "action": "stream"}, "data": {"content": "x"}}
HUGE_ID = "18446744073709551615-18446744073709551615"


def start(client, **body):
    response = client.post("/runs", json={"task": "t", "executor": "external", **body})
    assert response.status_code == 201, response.json
    return response.json["id"]


def post_raw(client, path, text):
    return client.post(path, data=text.encode(), content_type="application/json")


def assert_error(response, status, code):
    assert response.status_code == status, response.data
    assert response.is_json
    assert set(response.json) == {"code", "message"}
    assert response.json["code"] == code


def every_stored_text(client, run_id):
    """What the service hands out about the run, each parsed as strict JSON."""
    strict = {"parse_constant": pytest.fail}
    texts = [
        client.get(f"/runs/{run_id}/events").get_data(as_text=True),
        client.get("/runs").get_data(as_text=True),
        client.get(f"/runs/{run_id}").get_data(as_text=True),
    ]
    return [json.loads(text, **strict) for text in texts]


NOT_FINITE = ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("number", NOT_FINITE)
def test_a_run_request_with_a_number_that_is_not_finite_is_invalid(client, number):
    body = f'{{"task": "t", "executor": "external", "params": {{"x": {number}}}}}'

    assert_error(post_raw(client, "/runs", body), 400, "INVALID_REQUEST")


@pytest.mark.parametrize("number", NOT_FINITE)
def test_an_event_or_finish_with_a_number_that_is_not_finite_is_invalid(client, number):
    run_id = start(client)
    event = (
        f'{{"event": {{"category": "llm", "action": "x"}}, "data": {{"x": {number}}}}}'
    )
    finish = f'{{"status": "completed", "result": {{"score": {number}}}}}'

    appended = post_raw(client, f"/runs/{run_id}/events", event)
    finished = post_raw(client, f"/runs/{run_id}/finish", finish)

    assert_error(appended, 400, "INVALID_REQUEST")
    assert_error(finished, 400, "INVALID_REQUEST")
    every_stored_text(client, run_id)


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/runs", '{"task": %s, "executor": "external"}'),
        ("/runs", '{"task": "t", "executor": "external", "params": {"k": %s}}'),
        ("/runs", '{"task": "t", "executor": "external", "params": {%s: 1}}'),
        ("events", '{"event": {"category": "llm", "action": "x"}, "data": {"k": %s}}'),
        ("events", '{"events": [{"event": {"category": "llm", "action": %s}}]}'),
        ("finish", '{"status": "failed", "error": %s}'),
        ("finish", '{"status": "completed", "result": [%s]}'),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_invalid(client, path, template):
    run_id = start(client)
    target = path if path.startswith("/") else f"/runs/{run_id}/{path}"

    response = post_raw(client, target, template % '"a\\udfffb"')

    assert_error(response, 400, "INVALID_REQUEST")
    assert all(every_stored_text(client, run_id))


def test_a_text_plain_post_is_refused_and_creates_no_run(client):
    before = client.get("/runs").json["runs"]

    response = client.post(
        "/runs", data='{"task": "t", "executor": "external"}', content_type="text/plain"
    )

    assert_error(response, 400, "INVALID_REQUEST")
    assert "application/json" in response.json["message"]
    assert client.get("/runs").json["runs"] == before


def test_a_form_post_to_cancel_is_refused_and_the_run_keeps_running(client):
    run_id = start(client)

    response = client.post(f"/runs/{run_id}/cancel", data={"x": "1"})

    assert_error(response, 400, "INVALID_REQUEST")
    assert client.get(f"/runs/{run_id}").json["status"] == "running"


def test_an_append_with_a_charset_parameter_is_accepted(client):
    run_id = start(client)

    response = client.post(
        f"/runs/{run_id}/events",
        data=json.dumps(EVENT),
        content_type="application/json; charset=utf-8",
    )

    assert response.status_code == 201


@pytest.mark.parametrize("executor", [{}, [], 0, False, ""])
def test_an_executor_that_is_not_a_string_is_invalid(client, executor):
    response = client.post("/runs", json={"task": "t", "executor": executor})

    assert_error(response, 400, "INVALID_REQUEST")


OUT_OF_RANGE_IDS = [HUGE_ID, "9223372036854775808-0", "0-9223372036854775808"]


@pytest.mark.parametrize("event_id", OUT_OF_RANGE_IDS)
def test_a_stream_start_beyond_any_id_the_service_makes_is_an_invalid_id(
    client, event_id
):
    run_id = start(client)
    path = f"/runs/{run_id}/events/stream"

    by_header = client.get(path, headers={"Last-Event-ID": event_id})
    by_query = client.get(f"{path}?last_event_id={event_id}")

    assert_error(by_header, 400, "INVALID_EVENT_ID")
    assert_error(by_query, 400, "INVALID_EVENT_ID")


@pytest.mark.parametrize("event_id", OUT_OF_RANGE_IDS)
def test_a_history_bound_beyond_any_id_the_service_makes_is_an_invalid_id(
    client, event_id
):
    run_id = start(client)

    start_page = client.get(f"/runs/{run_id}/events?start_id={event_id}")
    end_page = client.get(f"/runs/{run_id}/events?end_id={event_id}")

    assert_error(start_page, 400, "INVALID_EVENT_ID")
    assert_error(end_page, 400, "INVALID_EVENT_ID")


def test_the_largest_id_the_service_can_make_is_a_valid_start(client):
    run_id = start(client)
    client.post(f"/runs/{run_id}/finish", json={"status": "completed"})
    largest = "9223372036854775807-9223372036854775807"

    page = client.get(f"/runs/{run_id}/events?start_id={largest}")
    stream = client.get(
        f"/runs/{run_id}/events/stream", headers={"Last-Event-ID": largest}
    )

    assert page.status_code == 200
    assert page.json["events"] == []
    assert stream.status_code == 200
    assert stream.get_data(as_text=True).startswith("event: close\n")


@pytest.mark.parametrize("path", ["//view/", "//", "/view//", "//runs", "//healthz"])
def test_a_path_with_merged_slashes_is_not_found_without_a_redirect(client, path):
    response = client.get("/", environ_overrides={"PATH_INFO": path})

    assert_error(response, 404, "NOT_FOUND")
    assert "Location" not in response.headers


def test_the_openapi_version_is_the_package_version(client):
    info = client.get("/openapi.json").json["info"]

    assert info["version"] == runstream.__version__


def test_the_openapi_stream_answer_is_an_event_stream_not_a_json_string(client):
    paths = client.get("/openapi.json").json["paths"]

    content = paths["/runs/{run_id}/events/stream"]["get"]["responses"]["200"]
    assert list(content["content"]) == ["text/event-stream"]
    assert "schema" not in content["content"]["text/event-stream"]


SIMULATED = {"task": "t", "executor": "simulated"}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"teams": 10, "workers_per_team": 10, "tokens_per_worker": 6000,
          "chunk_size": 4, "chunk_delay_ms": 200}, "events"),
        ({"teams": 10, "workers_per_team": 10, "tokens_per_worker": 1500,
          "chunk_size": 1, "chunk_delay_ms": 0}, "events"),
        ({"teams": 10, "workers_per_team": 10, "tokens_per_worker": 400,
          "chunk_size": 4, "chunk_delay_ms": 0}, "chunk_delay_ms"),
        ({"teams": 2, "workers_per_team": 3, "chunk_delay_ms": 1}, "chunk_delay_ms"),
    ],
)  # fmt: skip
def test_simulated_params_beyond_the_load_bounds_are_refused_naming_the_limit(
    client, params, named
):
    response = client.post("/runs", json={**SIMULATED, "params": params})

    assert_error(response, 400, "INVALID_REQUEST")
    assert named in response.json["message"]


def test_simulated_runs_beyond_a_tenants_concurrency_limit_are_refused(client):
    from runstream.entrypoints.http.admission import MAX_RUNS_PER_TENANT

    slow = {**SIMULATED, "params": {"chunk_delay_ms": 10_000, "think_ms": 10_000}}
    started = []
    for _ in range(MAX_RUNS_PER_TENANT):
        response = client.post("/runs", json=slow)
        assert response.status_code == 201, response.json
        started.append(response.json["id"])

    refused = client.post("/runs", json=slow)
    for run_id in started[:1]:
        client.post(f"/runs/{run_id}/cancel")
    admitted_again = client.post("/runs", json=slow)
    for run_id in [*started[1:], admitted_again.json.get("id")]:
        client.post(f"/runs/{run_id}/cancel")

    assert_error(refused, 400, "INVALID_REQUEST")
    assert str(MAX_RUNS_PER_TENANT) in refused.json["message"]
    assert admitted_again.status_code == 201


def test_a_missing_trailing_slash_redirects_relatively_never_to_the_host_sent(client):
    response = client.get("/view?x=1", headers={"Host": "evil.example"})

    assert response.status_code == 308
    assert response.headers["Location"] == "view/?x=1"


@pytest.mark.parametrize("depth", [500, 900, 990, 5000])
def test_event_data_nested_too_deep_to_write_is_invalid(client, depth):
    run_id = start(client)
    nested = "[" * depth + "]" * depth
    body = (
        '{"events": [{"event": {"category": "llm", "action": "x"}, "data": {"k": %s}}]}'
    )

    response = post_raw(client, f"/runs/{run_id}/events", body % nested)

    assert response.status_code in (201, 400)
    if response.status_code == 400:
        assert_error(response, 400, "INVALID_REQUEST")
    assert all(every_stored_text(client, run_id))
