"""Retries of requests whose reply was lost: the request reaches `runstream serve`
through a TCP proxy that is cut once the service has acted on it, and the
producer retries with the same Idempotency-Key. The retry answers as the first
attempt would have, with `Idempotent-Replayed: true`, and nothing is stored
twice."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import pytest
import requests
from redis import Redis

from tests.support.polling import wait_until
from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy
from tests.support.tiers_harness import history, tiered_service

pytestmark = [pytest.mark.redis, pytest.mark.e2e, pytest.mark.slow]
TOKEN = {"event": {"category": "llm", "action": "stream"}, "data": {"n": 1}}


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[str, TcpProxy, Redis]]:
    with RedisServer() as redis, tiered_service(redis) as live:
        proxy = TcpProxy(("127.0.0.1", live.port))
        yield live.url, proxy, Redis.from_url(redis.url, decode_responses=True)
        proxy.close()


def external_run(url: str) -> int:
    answer = requests.post(f"{url}/runs", json={"task": "t", "executor": "external"})
    return int(answer.json()["id"])


def post_and_lose_the_reply(
    proxy: TcpProxy, path: str, body: object, key: str, acted: Callable[[], bool]
) -> None:
    """Send the request through the proxy, wait until the service `acted` on
    it, then cut the proxy before the client reads a byte of the reply."""
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: runstream\r\n"
        f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    client = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    try:
        client.sendall(head.encode() + payload)
        wait_until(acted, f"the service to act on {path}", 15)
        proxy.cut()
    finally:
        client.close()
        proxy.restore()


def retry(proxy: TcpProxy, path: str, body: object, key: str) -> requests.Response:
    return requests.post(
        f"http://127.0.0.1:{proxy.port}{path}",
        json=body,
        headers={"Idempotency-Key": key},
        timeout=10,
    )


def test_a_retried_append_answers_the_first_ids_and_stores_once(service):
    url, proxy, _ = service
    run_id = external_run(url)
    path = f"/runs/{run_id}/events"
    post_and_lose_the_reply(
        proxy, path, TOKEN, "append-1", lambda: len(history(url, run_id)) == 2
    )

    again = retry(proxy, path, TOKEN, "append-1")

    kept = history(url, run_id)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {"ids": [kept[1]["id"]], "sequences": [2]}
    assert len(kept) == 2


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("finish", {"status": "completed", "result": {"answer": 42}}, "completed"),
        ("cancel", {}, "cancelled"),
    ],
)
def test_a_retried_finish_or_cancel_answers_like_the_first_time(
    service, action, body, status
):
    url, proxy, redis = service
    run_id = external_run(url)
    path = f"/runs/{run_id}/{action}"

    def ended() -> bool:
        return requests.get(f"{url}/runs/{run_id}").json()["status"] == status

    post_and_lose_the_reply(proxy, path, body, f"{action}-1", ended)

    again = retry(proxy, path, body, f"{action}-1")

    kept = history(url, run_id)
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["status"] == status
    assert [e["event"]["action"] for e in kept] == ["started", status]
    wait_until(lambda: redis.pttl(f"run:{run_id}:events") > 0, "the log's expiry", 15)
