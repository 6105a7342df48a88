"""A plain nginx + Nchan on loopback, as the SSE load benchmark's yardstick.

Needs `apt-get install nginx libnginx-mod-nchan`. nginx runs with a config
file of its own in a temporary directory, on a free port, and is stopped at
the end. Channels are run ids: `POST /pub/<id>` publishes (nchan_publisher),
`GET /runs/<id>/events/stream` subscribes over EventSource (nchan_subscriber),
starting with the next message (like `?from=live`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import requests

from benchmarks.load_parts import children_of
from runstream.domain.envelope import envelope_json
from runstream.domain.ids import EventId
from runstream.domain.model import NewEvent, StoredEvent
from tests.support.live_server import free_port

MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"
CONFIG = """
load_module {module};
worker_processes {workers};
worker_rlimit_nofile {files};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections {files}; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /healthz {{ return 200 "ok"; }}
    location = /nchan_status {{ nchan_stub_status; }}
    location ~ ^/pub/(\\d+)$ {{
      nchan_publisher;
      nchan_channel_id $1;
      nchan_message_buffer_length 100;
    }}
    location ~ ^/runs/(\\d+)/events/stream$ {{
      nchan_subscriber eventsource;
      nchan_channel_id $1;
      nchan_subscriber_first_message newest;
    }}
  }}
}}
"""


class NchanServer:
    """nginx + Nchan with `workers` worker processes."""

    name = "nginx+Nchan"

    def __init__(self, workers: int, files: int) -> None:
        if not os.path.exists(MODULE):
            raise SystemExit(
                "Nchan is missing: apt-get install nginx libnginx-mod-nchan"
            )
        self.root = tempfile.mkdtemp(prefix="sse-load-nchan-")
        os.chmod(self.root, 0o755)  # nginx workers run as another user
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = os.path.join(self.root, "nginx.conf")
        with open(config, "w") as out:
            out.write(
                CONFIG.format(
                    module=MODULE,
                    workers=workers,
                    files=files,
                    root=self.root,
                    port=self.port,
                )  # fmt: skip
            )
        self.process = subprocess.Popen(
            ["nginx", "-c", config, "-p", self.root, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._session = requests.Session()
        self._await(workers)
        self._next_run = 1

    def _await(self, workers: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                answered = requests.get(self.url + "/healthz", timeout=1).ok
                if answered and len(self.workers()) >= workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit("nginx did not start: see " + self.root + "/error.log")

    def workers(self) -> list[int]:
        return children_of(self.process.pid)

    def make_runs(self, count: int) -> list[int]:
        ids = list(range(self._next_run, self._next_run + count))
        self._next_run += count
        return ids

    def append(self, run_id: int, events: list[NewEvent]) -> None:
        """Publish each event as the envelope runstream would send for it."""
        for event in events:
            stored = StoredEvent(EventId(int(time.time() * 1000), 0), run_id, 1,
                                 int(time.time() * 1000), event)  # fmt: skip
            body = envelope_json(stored).encode()
            self._session.post(f"{self.url}/pub/{run_id}", data=body, timeout=10)

    def end_runs(self, run_ids: list[int]) -> None:
        """Deleting a channel disconnects its subscribers."""
        for run_id in run_ids:
            self._session.delete(f"{self.url}/pub/{run_id}", timeout=10)

    def held(self) -> int | None:
        try:
            text = self._session.get(self.url + "/nchan_status", timeout=5).text
        except requests.RequestException:
            return None
        for line in text.splitlines():
            if line.startswith("subscribers:"):
                return int(line.split(":")[1])
        return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._session.close()
        shutil.rmtree(self.root, ignore_errors=True)
