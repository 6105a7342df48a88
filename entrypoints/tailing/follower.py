"""Following one run's SSE stream across drops and restarts (`Last-Event-ID`)."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from runstream.entrypoints.tailing.client import Service, ServiceError, answer
from runstream.entrypoints.tailing.sse_parser import Frame, SseParser

FIRST_DELAY = 0.2
MAX_DELAY = 3.0


class GaveUp(Exception):
    """The stream could not be resumed within the give-up time."""


class Retry(Exception):
    """A transient failure: reconnect after a pause."""


@dataclass
class Follower:
    """Yields every frame of the run's stream, up to and including `close`.

    A dropped connection, a stream that ends without `close`, a refused connect
    or a 5xx answer is retried with exponential backoff, resuming after the last
    event id seen; `give_up_seconds` without a single frame raises GaveUp. A 4xx
    answer raises ServiceError at once.
    """

    service: Service
    run_id: int
    last_event_id: str | None = None
    give_up_seconds: float = 60.0
    idle_timeout: float = 60.0
    notice: Callable[[str], None] = lambda _text: None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _delay: float = field(default=FIRST_DELAY, init=False)
    _failing_since: float | None = field(default=None, init=False)

    def frames(self) -> Iterator[Frame]:
        while True:
            try:
                for frame in self._connection():
                    self._delay, self._failing_since = FIRST_DELAY, None
                    yield frame
                    if frame.event == "close":
                        return
                reason = "the stream ended before the run did"
            except (OSError, http.client.HTTPException, Retry) as err:
                reason = str(err) or type(err).__name__
            self._pause(reason)

    def _pause(self, reason: str) -> None:
        now = self.clock()
        if self._failing_since is None:
            self._failing_since = now
        waited = now - self._failing_since
        if waited >= self.give_up_seconds:
            raise GaveUp(f"gave up after {waited:.0f} s: {reason}")
        self.notice(f"stream interrupted ({reason}); reconnecting in {self._delay:g} s")
        self.sleep(self._delay)
        self._delay = min(self._delay * 2, MAX_DELAY)

    def _connection(self) -> Iterator[Frame]:
        connection = self.service.connect(self.idle_timeout)
        try:
            response = self._open(connection)
            parser = SseParser()
            while line := response.readline():
                frame = parser.feed(line.decode("utf-8", "replace"))
                if frame is not None:
                    if frame.id is not None:
                        self.last_event_id = frame.id
                    yield frame
        finally:
            connection.close()

    def _open(self, connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
        headers = self.service.headers(Accept="text/event-stream")
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        path = self.service.path(f"/runs/{self.run_id}/events/stream")
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        kind = response.getheader("Content-Type", "")
        if response.status == 200 and kind.startswith("text/event-stream"):
            return response
        try:
            answer(response.status, response.read())
        except ServiceError as err:
            if err.status >= 500 or err.status == 429:
                raise Retry(str(err)) from err
            raise
        raise ServiceError(response.status, "NOT_A_STREAM", f"got {kind or 'nothing'}")
