"""The SSE rules of contract.md §4 through the Flask test client (fast and exact)."""

import threading

from dependency_injector import providers

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.application.live.hub import FanOutHub, HubLimits
from runstream.domain.model import LogInfo
from runstream.entrypoints.live.frames import event_frame
from tests.support.apps import make_app
from tests.support.polling import joined
from tests.support.sse_client import parse_frame

EVENT = {"event": {"category": "llm", "action": "stream"}, "data": {"content": "x"}}


def start(client):
    return client.post("/runs", json={"task": "t"}).json["id"]


def append(client, run_id, count=1):
    body = {"events": [{**EVENT, "data": {"i": i}} for i in range(count)]}
    return client.post(f"/runs/{run_id}/events", json=body).json["ids"]


def read_frames(response, until=lambda frames: False):
    """Frames of a streamed response, until it ends or `until(frames)`."""
    frames, rest = [], b""
    for chunk in response.response:
        parts = (rest + chunk).split(b"\n\n")
        rest = parts.pop()
        frames.extend(parse_frame(raw) for raw in parts)
        if until(frames):
            break
    return frames


def events_of(frames):
    return [f for f in frames if f.event is not None]


def test_a_stream_has_the_sse_headers(client):
    run_id = start(client)
    client.post(f"/runs/{run_id}/cancel")

    response = client.get(f"/runs/{run_id}/events/stream")

    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Connection"] == "keep-alive"
    assert response.headers["X-Accel-Buffering"] == "no"


def test_a_finished_run_is_replayed_then_closed(client):
    run_id = start(client)
    ids = append(client, run_id, 3)
    client.post(f"/runs/{run_id}/finish", json={"status": "completed"})

    frames = events_of(read_frames(client.get(f"/runs/{run_id}/events/stream")))

    assert [f.event for f in frames] == [
        "lifecycle.started", "llm.stream", "llm.stream", "llm.stream",
        "lifecycle.completed", "close",
    ]  # fmt: skip
    assert [f.id for f in frames[1:4]] == ids
    assert frames[1].json()["id"] == ids[0]
    assert frames[1].json()["sequence"] == 2
    assert frames[-1].id is None
    assert frames[-1].data == '{"message":"Stream closed"}'


def test_the_header_wins_over_the_query_and_both_start_after_the_id(client):
    run_id = start(client)
    ids = append(client, run_id, 4)
    client.post(f"/runs/{run_id}/cancel")

    by_query = events_of(
        read_frames(client.get(f"/runs/{run_id}/events/stream?last_event_id={ids[0]}"))
    )
    by_header = events_of(
        read_frames(
            client.get(
                f"/runs/{run_id}/events/stream?last_event_id={ids[0]}",
                headers={"Last-Event-ID": ids[2]},
            )
        )
    )

    assert [f.id for f in by_query[:3]] == ids[1:]
    assert [f.id for f in by_header[:1]] == ids[3:]
    assert by_header[1].event == "lifecycle.cancelled"


def test_from_live_skips_what_is_already_there(app, client):
    run_id = start(client)
    append(client, run_id, 2)
    response = client.get(f"/runs/{run_id}/events/stream?from=live", buffered=False)
    first = read_frames(response, until=lambda frames: len(frames) >= 1)
    later = append(client, run_id, 1)
    client.post(f"/runs/{run_id}/cancel")

    rest = events_of(read_frames(response))

    assert first[0].comments and first[0].comments[0].startswith("heartbeat ")
    assert [f.id for f in rest[:1]] == later
    assert [f.event for f in rest[1:]] == ["lifecycle.cancelled", "close"]


def test_an_idle_stream_sends_heartbeats_with_a_utc_timestamp(client):
    run_id = start(client)
    response = client.get(f"/runs/{run_id}/events/stream", buffered=False)

    frames = read_frames(response, until=lambda frames: len(frames) >= 3)

    beats = [f.comments[0] for f in frames if f.comments]
    assert len(beats) == 2
    assert all(b.startswith("heartbeat ") and b.endswith("Z") for b in beats)
    response.close()


class TrimmedLog(InMemoryEventLog):
    """A log that no longer keeps its events below `keep_from` (a trimmed window)."""

    keep_from = 1

    def read(self, run_id, *args, **kwargs):
        found = super().read(run_id, *args, **kwargs)
        return [e for e in found if e.sequence >= self.keep_from]

    def info(self, run_id):
        found = self.read(run_id)
        if not found:
            return None
        first, last = found[0], found[-1]
        return LogInfo(first.id, first.sequence, last.id, last.sequence,
                       len(found), last.is_terminal)  # fmt: skip


def test_a_stream_says_gap_before_skipping_events_that_are_gone():
    log = TrimmedLog()
    app = make_app()
    app.container.event_log.override(providers.Object(log))
    client = app.test_client()
    run_id = start(client)
    ids = append(client, run_id, 5)
    client.post(f"/runs/{run_id}/cancel")
    log.keep_from = 4

    frames = events_of(
        read_frames(client.get(f"/runs/{run_id}/events/stream?last_event_id={ids[0]}"))
    )

    assert frames[0].event == "gap"
    assert frames[0].json() == {"last_event_id": ids[0], "first_available_id": ids[2]}
    assert [f.id for f in frames[1:4]] == ids[2:]
    app.container.fan_out_hub().close()


def test_a_subscriber_that_fell_out_of_the_window_is_ended_then_resumes_from_the_log():
    app = make_app()
    hub = FanOutHub(
        app.container.event_log(),
        event_frame,
        HubLimits(ring_events=4, read_slice=0.01),
    )
    app.container.fan_out_hub.override(providers.Object(hub))
    client = app.test_client()
    run_id = start(client)
    response = client.get(f"/runs/{run_id}/events/stream", buffered=False)
    seen = read_frames(response, until=lambda frames: any(f.comments for f in frames))
    ids = append(client, run_id, 20)
    watcher = threading.Thread(target=hub.wait, args=({run_id: _id(ids[-2])}, 5))
    watcher.start()
    joined(watcher)

    rest = read_frames(response)
    client.post(f"/runs/{run_id}/cancel")
    resumed = events_of(
        read_frames(
            client.get(
                f"/runs/{run_id}/events/stream",
                headers={"Last-Event-ID": events_of(seen)[-1].id},
            )
        )
    )

    assert "close" not in [f.event for f in rest]
    metrics = client.get("/metrics").data.decode()
    assert "runstream_slow_subscriber_disconnects_total 1.0" in metrics
    assert [f.id for f in resumed[:20]] == ids
    assert [f.event for f in resumed[20:]] == ["lifecycle.cancelled", "close"]
    hub.close()


def _id(text):
    from runstream.domain.ids import EventId

    return EventId.parse(text)


def test_a_closing_service_ends_streams_without_close(app, client):
    from runstream.entrypoints.http.app import begin_shutdown

    run_id = start(client)
    response = client.get(f"/runs/{run_id}/events/stream", buffered=False)
    read_frames(response, until=lambda frames: len(frames) >= 1)

    begin_shutdown(app)
    rest = read_frames(response)

    assert "close" not in [f.event for f in rest]


def test_a_start_at_the_terminal_event_gets_the_close_frame_alone(client):
    run_id = start(client)
    client.post(f"/runs/{run_id}/cancel")
    last = events_of(read_frames(client.get(f"/runs/{run_id}/events/stream")))[-2]

    frames = events_of(
        read_frames(
            client.get(
                f"/runs/{run_id}/events/stream", headers={"Last-Event-ID": last.id}
            )
        )
    )

    assert last.event == "lifecycle.cancelled"
    assert [f.event for f in frames] == ["close"]
