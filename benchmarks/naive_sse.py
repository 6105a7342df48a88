"""The naive design the fan-out hub is measured against: every SSE subscriber
holds its own Redis connection in a blocking XREAD on its run's stream and
encodes every frame itself. `python -m benchmarks.naive_sse --port P --redis URL`.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import re  # noqa: E402

import redis  # noqa: E402
from gevent.pool import Pool  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from runstream.adapters.redis_stream.codec import decode_entries, stream_key  # noqa: E402
from runstream.entrypoints.live.frames import CLOSE_FRAME, event_frame  # noqa: E402

PATH = re.compile(r"^/runs/([0-9]+)/events/stream$")
HEADERS = [
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
    ("X-Accel-Buffering", "no"),
]


def stream(client: redis.Redis, run_id: int):  # type: ignore[no-untyped-def]
    key = stream_key(run_id)
    newest = client.xrevrange(key, count=1)
    cursor = newest[0][0] if newest else "0-0"
    yield b": connected\n\n"  # pywsgi sends the headers with the first bytes
    while True:
        found = client.xread({key: cursor}, count=1000, block=15000)
        if not found:
            yield b": heartbeat\n\n"
            continue
        events = decode_entries(run_id, found[0][1])
        cursor = str(events[-1].id)
        chunk = b"".join(event_frame(event) for event in events)
        if events[-1].is_terminal:
            yield chunk + CLOSE_FRAME
            return
        yield chunk


def make_app(client: redis.Redis):  # type: ignore[no-untyped-def]
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        match = PATH.match(environ.get("PATH_INFO", ""))
        if match is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", HEADERS)
        return stream(client, int(match.group(1)))

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    pool = redis.ConnectionPool.from_url(
        args.redis, decode_responses=True, max_connections=10_000
    )
    client = redis.Redis(connection_pool=pool)
    server = WSGIServer(
        ("127.0.0.1", args.port), make_app(client), spawn=Pool(10_000), log=None
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
