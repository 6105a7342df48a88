"""The HTTP edge over real HTTP against `runstream serve`: bodies bounded in size
and time, gunicorn's own refusals as the contract's JSON, merged slashes, and
the `close` frame of a stream resumed at the end of a finished run."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.apps import MEMORY
from tests.support.live_server import LiveServer
from tests.support.sse_client import SseStream

pytestmark = pytest.mark.e2e

BODY_LIMIT = 200_000
BODY_TIMEOUT = 1.0
EVENT = {"event": {"category": "llm", "action": "stream"}, "data": {"content": "x"}}


@pytest.fixture(scope="module")
def edge_server() -> Iterator[LiveServer]:
    live = LiveServer(
        {
            **MEMORY,
            "RUNSTREAM_MAX_BODY_BYTES": str(BODY_LIMIT),
            "RUNSTREAM_MAX_EVENT_BYTES": "1024",
            "RUNSTREAM_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        }
    )
    yield live
    live.stop()


def connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the one response on `sock` (read to EOF)."""
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def assert_json_error(status: int, headers: dict[str, str], body: bytes) -> dict:
    assert headers["content-type"].startswith("application/json"), body
    error = json.loads(body)
    assert set(error) == {"code", "message"}
    assert error["message"]
    return error


def external_run(server: LiveServer) -> int:
    created = requests.post(
        f"{server.url}/runs", json={"task": "t", "executor": "external"}, timeout=10
    )
    assert created.status_code == 201
    run_id = created.json()["id"]
    appended = requests.post(
        f"{server.url}/runs/{run_id}/events", json=EVENT, timeout=10
    )
    assert appended.status_code == 201
    return int(run_id)


def history(server: LiveServer, run_id: int) -> list[dict]:
    return requests.get(f"{server.url}/runs/{run_id}/events", timeout=10).json()[
        "events"
    ]


def test_a_declared_length_over_the_limit_is_refused_before_the_body(edge_server):
    run_id = external_run(edge_server)
    before = history(edge_server, run_id)
    sock = connect(edge_server)

    sock.sendall(
        f"POST /runs/{run_id}/events HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {1024**3}\r\n\r\n".encode()
        + b'{"events": ['
    )
    status, headers, body = answer(sock)

    assert status == 413
    assert assert_json_error(status, headers, body)["code"] == "EVENT_TOO_LARGE"
    assert history(edge_server, run_id) == before


def test_a_chunked_body_over_the_limit_is_refused_at_the_limit(edge_server):
    run_id = external_run(edge_server)
    before = history(edge_server, run_id)
    padded = b'{"events": [' + b" " * (BODY_LIMIT + 1)
    sock = connect(edge_server)

    sock.sendall(
        f"POST /runs/{run_id}/events HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        f"{len(padded):x}\r\n".encode()
        + padded
        + b"\r\n"
    )
    status, headers, body = answer(sock)

    assert status == 413
    assert assert_json_error(status, headers, body)["code"] == "EVENT_TOO_LARGE"
    assert history(edge_server, run_id) == before


def test_a_chunked_body_under_the_limit_is_appended_whole(edge_server):
    run_id = external_run(edge_server)
    body = json.dumps({"events": [EVENT] * 3}).encode() + b" " * 1000

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 700):
            yield body[start : start + 700]

    response = requests.post(
        f"{edge_server.url}/runs/{run_id}/events",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 201
    assert response.json()["sequences"] == [3, 4, 5]


def test_a_body_that_never_arrives_is_timed_out_and_the_connection_closed(
    edge_server,
):
    run_id = external_run(edge_server)
    sock = connect(edge_server)
    started = time.monotonic()

    sock.sendall(
        f"POST /runs/{run_id}/events HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
    )
    status, headers, body = answer(sock)

    assert status == 408
    assert assert_json_error(status, headers, body)["code"] == "INVALID_REQUEST"
    assert time.monotonic() - started >= BODY_TIMEOUT
    assert len(history(edge_server, run_id)) == 2


def test_a_body_cut_short_of_its_declared_length_is_refused(edge_server):
    run_id = external_run(edge_server)
    sock = connect(edge_server)
    body = json.dumps(EVENT).encode()

    sock.sendall(
        f"POST /runs/{run_id}/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body) + 10}\r\n\r\n".encode()
        + body
    )
    sock.shutdown(socket.SHUT_WR)
    status, headers, answered = answer(sock)

    assert status == 400
    assert assert_json_error(status, headers, answered)["code"] == "INVALID_REQUEST"
    assert len(history(edge_server, run_id)) == 2


def test_a_body_dripping_slower_than_the_timeout_is_timed_out(edge_server):
    run_id = external_run(edge_server)
    sock = connect(edge_server)
    sock.sendall(
        f"POST /runs/{run_id}/events HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n".encode()
    )
    deadline = time.monotonic() + BODY_TIMEOUT * 10

    try:
        while time.monotonic() < deadline:
            sock.sendall(b" ")
            time.sleep(BODY_TIMEOUT / 4)
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, headers, body = answer(sock)

    assert status == 408
    assert assert_json_error(status, headers, body)["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
         431),
        (b"GET /healthz HTTP/1.1\r\n" + b"".join(
            b"X-H%d: 1\r\n" % n for n in range(200)) + b"\r\n", 431),
        (b"NOT A REQUEST LINE\r\n\r\n", 400),
        (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n", 400),
    ],
)  # fmt: skip
def test_gunicorn_refusals_are_the_contracts_json(edge_server, request_bytes, status):
    sock = connect(edge_server)

    sock.sendall(request_bytes)
    got, headers, body = answer(sock)

    assert got == status
    error = assert_json_error(got, headers, body)
    assert error["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize("path", ["//view/", "//view/runs/1", "//", "/view//"])
def test_merged_slash_paths_are_not_found_and_never_redirected(edge_server, path):
    sock = connect(edge_server)

    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: evil.example\r\n\r\n".encode())
    sock.shutdown(socket.SHUT_WR)
    status, headers, body = answer(sock)

    assert status == 404
    assert "location" not in headers
    assert assert_json_error(status, headers, body)["code"] == "NOT_FOUND"


def frames_after(server: LiveServer, run_id: int, last_id: str) -> list:
    stream = SseStream(
        server.url,
        f"/runs/{run_id}/events/stream",
        headers={"Last-Event-ID": last_id},
    )
    assert stream.status == 200
    return [(frame.event, frame.data) for frame in stream.frames()]


def test_a_stream_resumed_at_or_after_the_terminal_event_gets_close_alone(server):
    run_id = external_run(server)
    finished = requests.post(
        f"{server.url}/runs/{run_id}/finish", json={"status": "completed"}, timeout=10
    )
    assert finished.status_code == 200
    terminal = history(server, run_id)[-1]["id"]
    ms, seq = terminal.split("-")
    close = ("close", '{"message":"Stream closed"}')

    at_terminal = frames_after(server, run_id, terminal)
    after_terminal = frames_after(server, run_id, f"{int(ms) + 1000}-{seq}")

    assert at_terminal == [close]
    assert after_terminal == [close]
