"""How soon the run page has shown a finished 10,000-event run, in Chromium.

    .venv/bin/python -m benchmarks.viewer [--times 5]

Starts `runstream serve` on the in-memory backend, then `--times` times stores a
fresh finished run of 10,202 events (6 agents streaming in rounds) and opens its
page in a fresh headless browser: the figure is the page's own mark of when it
had shown everything (every event applied, summary and timeline drawn), in ms
after navigation started. Target: within a second (the median). Needs the
browser the tests use (`make install-browser`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from tests.support.run_driver import local_service
from tests.support.viewer_timing import complete_after, finished_10000_event_run

TARGET_MS = 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--times", type=int, default=5)
    args = parser.parse_args()
    figures = []
    with (
        tempfile.TemporaryDirectory() as folder,
        local_service(Path(folder), "memory") as service,
    ):
        for _ in range(args.times):
            run = finished_10000_event_run(service.url)
            figures.append(complete_after(service.url, run))
            print(f"page complete after {figures[-1]:7.0f} ms")
    median = statistics.median(figures)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    verdict = "met" if median <= TARGET_MS else "MISSED"
    print(f"median {median:.0f} ms over {len(figures)} pages (target <= "
          f"{TARGET_MS:.0f} ms: {verdict}); load average {load}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
