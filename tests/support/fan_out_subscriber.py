"""A raw SSE subscriber that resumes with Last-Event-ID, like EventSource."""

from __future__ import annotations

import http.client
import threading


class Subscriber(threading.Thread):
    """Reads the stream to `close`, resuming with Last-Event-ID like EventSource;
    keeps only what the checks need: each event id as (ms, seq), in order."""

    def __init__(self, port, run_id):
        super().__init__(daemon=True)
        self.port, self.run_id = port, run_id
        self.ids, self.closed, self.reconnects = [], False, -1
        self.connected = threading.Event()

    def run(self):
        while not self.closed and self.reconnects < 20:
            self.reconnects += 1
            self._read_once()

    def _read_once(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {}
        if self.ids:
            headers["Last-Event-ID"] = "{}-{}".format(*self.ids[-1])
        connection.request("GET", f"/runs/{self.run_id}/events/stream", headers=headers)
        response = connection.getresponse()
        self.connected.set()
        rest = b""
        while chunk := response.read1(262144):
            frames = (rest + chunk).split(b"\n\n")
            rest = frames.pop()
            for frame in frames:
                if frame.startswith(b"id: "):
                    ms, _, seq = frame[4 : frame.index(b"\n")].partition(b"-")
                    self.ids.append((int(ms), int(seq)))
                elif frame.startswith(b"event: close"):
                    self.closed = True
        connection.close()
