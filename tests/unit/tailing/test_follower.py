import pytest

from runstream.entrypoints.tailing.client import ServiceError
from runstream.entrypoints.tailing.follower import Follower, GaveUp
from tests.support.tailing_fakes import CLOSE, FakeService, Reply, envelope, frame

TOKEN = envelope("llm", "stream", {"content": "hi"}, agent="researcher")


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def follower(service: FakeService, time: FakeTime, **options) -> Follower:
    return Follower(service, 1, sleep=time.sleep, clock=time.clock, **options)


def test_a_dropped_stream_resumes_after_the_last_event_id_seen():
    dropped = Reply(body=[frame("1-0", TOKEN), frame("2-0", TOKEN), OSError("reset")])
    service = FakeService("http://x", replies=[dropped, Reply(body=[CLOSE])])

    frames = list(follower(service, FakeTime()).frames())

    assert [f.id for f in frames] == ["1-0", "2-0", None]
    assert "Last-Event-ID" not in service.sent[0]
    assert service.sent[1]["Last-Event-ID"] == "2-0"


def test_the_first_request_starts_after_the_from_id_and_sends_the_token():
    service = FakeService("http://x", "key-1", replies=[Reply(body=[CLOSE])])

    list(follower(service, FakeTime(), last_event_id="9-0").frames())

    assert service.sent[0]["Last-Event-ID"] == "9-0"
    assert service.sent[0]["Authorization"] == "Bearer key-1"


def test_refused_connects_and_503_answers_are_retried_with_growing_pauses():
    unavailable = Reply(503, [b'{"code":"REDIS_UNAVAILABLE","message":"down"}'])
    replies = [ConnectionRefusedError(), unavailable, Reply(body=[CLOSE])]
    time = FakeTime()

    frames = list(follower(FakeService("http://x", replies=replies), time).frames())

    assert [f.event for f in frames] == ["close"]
    assert time.slept == [0.2, 0.4]


def test_a_stream_that_ends_without_close_is_reopened():
    replies = [Reply(body=[frame("1-0", TOKEN)]), Reply(body=[CLOSE])]
    service = FakeService("http://x", replies=replies)

    frames = list(follower(service, FakeTime()).frames())

    assert [f.event for f in frames] == ["llm.stream", "close"]
    assert service.sent[1]["Last-Event-ID"] == "1-0"


def test_an_unknown_run_is_reported_at_once_without_retrying():
    missing = Reply(404, [b'{"code":"RUN_NOT_FOUND","message":"no run 1"}'])
    time = FakeTime()

    with pytest.raises(ServiceError) as raised:
        list(follower(FakeService("http://x", replies=[missing]), time).frames())

    assert raised.value.code == "RUN_NOT_FOUND"
    assert time.slept == []


def test_it_gives_up_when_nothing_answers_for_the_give_up_time():
    time = FakeTime()
    notices: list[str] = []
    quiet = follower(
        FakeService("http://x"), time, give_up_seconds=10, notice=notices.append
    )

    with pytest.raises(GaveUp):
        list(quiet.frames())

    assert 10 <= time.now < 14
    assert all("reconnecting" in notice for notice in notices)


def test_progress_resets_the_backoff():
    replies = [
        ConnectionRefusedError(),
        Reply(body=[frame("1-0", TOKEN), OSError("reset")]),
        Reply(body=[CLOSE]),
    ]
    time = FakeTime()

    list(follower(FakeService("http://x", replies=replies), time).frames())

    assert time.slept == [0.2, 0.2]
