"""Follow a run to its end, render what happens, and say how it ended."""

from __future__ import annotations

import http.client
import json
from typing import Any

from runstream.entrypoints.tailing.client import ServiceError
from runstream.entrypoints.tailing.follower import Follower, GaveUp
from runstream.entrypoints.tailing.render import Renderer

EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_CANCELLED = 3
EXIT_NOT_FOUND = 4
EXIT_REFUSED = 5
EXIT_UNREACHABLE = 6

_BY_STATUS = {"completed": EXIT_COMPLETED, "failed": EXIT_FAILED}
_BY_STATUS["cancelled"] = EXIT_CANCELLED
_BY_CODE = {"RUN_NOT_FOUND": EXIT_NOT_FOUND, "RUN_EXPIRED": EXIT_NOT_FOUND}


def watch(follower: Follower, renderer: Renderer) -> int:
    """Render the run's events until `close`; the exit code of its outcome."""
    try:
        ending = _follow(follower, renderer)
        if ending is None:
            ending = _status(follower)
    except ServiceError as err:
        renderer.notice(f"run {follower.run_id}: {err}")
        return _BY_CODE.get(err.code, EXIT_REFUSED)
    except GaveUp as err:
        renderer.notice(str(err))
        return EXIT_UNREACHABLE
    finally:
        renderer.finish()
    if ending not in _BY_STATUS:
        renderer.notice(f"run {follower.run_id} is still {ending}")
        return EXIT_UNREACHABLE
    return _BY_STATUS[ending]


def _follow(follower: Follower, renderer: Renderer) -> str | None:
    for frame in follower.frames():
        if frame.event == "close":
            break
        payload: dict[str, Any] = json.loads(frame.data)
        if frame.event == "gap":
            renderer.gap(payload)
            continue
        renderer.event(payload, frame.data)
        kind = payload.get("event") or {}
        if kind.get("category") == "lifecycle" and kind.get("action") in _BY_STATUS:
            # The terminal event is the log's last: nothing to wait for after it,
            # even if the line drops before `close`.
            return str(kind["action"])
    return None


def _status(follower: Follower) -> str:
    """The run's status from its record, for a stream that began after its end."""
    try:
        run = follower.service.request("GET", f"/runs/{follower.run_id}")
    except (OSError, http.client.HTTPException) as err:
        raise GaveUp(f"cannot read the run's status: {err}") from err
    return str(run.get("status", "unknown"))
