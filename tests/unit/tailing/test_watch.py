import io

import pytest

from runstream.entrypoints.tailing import session
from runstream.entrypoints.tailing.follower import Follower
from runstream.entrypoints.tailing.render import TextRenderer
from tests.support.tailing_fakes import CLOSE, FakeService, Reply, envelope, frame


def watch(service: FakeService) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    renderer = TextRenderer(out, err, colour=False)
    follower = Follower(service, 1, notice=renderer.notice, sleep=lambda _s: None)
    return session.watch(follower, renderer), out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("completed", session.EXIT_COMPLETED),
        ("failed", session.EXIT_FAILED),
        ("cancelled", session.EXIT_CANCELLED),
    ],
)
def test_the_exit_code_follows_the_terminal_event(action, code):
    ending = frame("2-0", envelope("lifecycle", action))
    service = FakeService("http://x", replies=[Reply(body=[ending, CLOSE])])

    assert watch(service)[0] == code


def test_a_stream_that_starts_after_the_end_asks_the_run_for_its_status():
    service = FakeService("http://x", replies=[Reply(body=[CLOSE])], status="failed")

    assert watch(service)[0] == session.EXIT_FAILED


def test_an_unknown_run_exits_with_its_own_code_and_says_why():
    missing = Reply(404, [b'{"code":"RUN_NOT_FOUND","message":"no run 1"}'])

    code, _, err = watch(FakeService("http://x", replies=[missing]))

    assert code == session.EXIT_NOT_FOUND
    assert "RUN_NOT_FOUND" in err


def test_an_unauthorized_request_exits_as_refused():
    denied = Reply(401, [b'{"code":"UNAUTHORIZED","message":"no key"}'])

    assert watch(FakeService("http://x", replies=[denied]))[0] == session.EXIT_REFUSED


def test_a_gap_frame_is_shown_and_the_run_followed_on():
    gap = b'event: gap\ndata: {"last_event_id":"1-0","first_available_id":"5-0"}\n\n'
    ending = frame("6-0", envelope("lifecycle", "completed"))
    service = FakeService("http://x", replies=[Reply(body=[gap, ending, CLOSE])])

    code, out, _ = watch(service)

    assert code == session.EXIT_COMPLETED
    assert "5-0" in out


def test_the_terminal_event_ends_the_watch_even_if_close_never_comes():
    ending = frame("2-0", envelope("lifecycle", "completed"))
    service = FakeService("http://x", replies=[Reply(body=[ending, OSError("reset")])])

    code, _, err = watch(service)

    assert code == session.EXIT_COMPLETED
    assert len(service.sent) == 1 and "reconnecting" not in err
