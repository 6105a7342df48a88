"""Checks of the CI smoke step (.ci/smoke), run by the fresh venv's Python with
nothing but runstream's declared dependencies installed: standard library only.

  imports              every module of the installed package imports
  api BASE_URL         healthz, an external run, one append, finish, SSE replay
  neighbours           PyPI's `adapters` and `entrypoints` are intact beside runstream
  free-port            prints a free TCP port on 127.0.0.1
  status URL           prints the HTTP status of a GET (000: no answer)
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import pkgutil
import re
import socket
import sys
import urllib.error
import urllib.request
from base64 import urlsafe_b64encode
from pathlib import Path

# Modules that need an optional extra, or that only a tool runs.
OPTIONAL = {
    # Alembic executes it inside a migration; importing it alone has no context.
    "runstream.adapters.mysql_legacy.migrations.env": None,
}
OPTIONAL_EXTRAS = {"langchain_core"}
REPLAYED = ["lifecycle.started", "llm.stream", "lifecycle.completed"]


def check_imports() -> None:
    import runstream

    failed = []
    names = [
        info.name
        for info in pkgutil.walk_packages(runstream.__path__, "runstream.")
        if info.name not in OPTIONAL
    ]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as err:
            if (err.name or "").split(".")[0] not in OPTIONAL_EXTRAS:
                failed.append(f"{name}: {err}")
    if failed:
        sys.exit("modules that do not import with the declared dependencies:\n  "
                 + "\n  ".join(failed))  # fmt: skip
    print(f"smoke: {len(names)} modules of runstream {runstream.__version__} import")


def call(method: str, url: str, body: object | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=15) as answer:
        return answer.status, answer.read()


def check_api(base: str) -> None:
    assert call("GET", f"{base}/healthz")[0] == 200
    run = {"task": "smoke", "executor": "external"}
    status, body = call("POST", f"{base}/runs", run)
    assert status == 201, body
    runs = f"{base}/runs/{json.loads(body)['id']}"
    event = {"event": {"category": "llm", "action": "stream"}, "source": None,
             "data": {"content": "hello from the smoke test"}}  # fmt: skip
    status, body = call("POST", f"{runs}/events", event)
    assert status == 201, body
    appended = json.loads(body)["ids"][0]
    assert call("POST", f"{runs}/finish", {"status": "completed"})[0] == 200
    frames = call("GET", f"{runs}/events/stream")[1].decode().strip().split("\n\n")
    kinds = [
        line.removeprefix("event: ")
        for frame in frames
        for line in frame.split("\n")
        if line.startswith("event: ")
    ]
    assert kinds == [*REPLAYED, "close"], kinds
    assert f"id: {appended}" in frames[1], frames
    viewer = call("GET", f"{base}/view/")[1].decode()
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', viewer)
    for asset in assets:
        assert call("GET", f"{base}/view/{asset}")[0] == 200, asset
    assert assets, "the viewer page links no files"
    print(f"smoke: {runs}: append {appended}, SSE replay ends with close; "
          f"the viewer and its {len(assets)} files answer 200")  # fmt: skip


def intact(distribution: str) -> int:
    """Check every installed file of `distribution` against its RECORD hash."""
    checked = 0
    for file in importlib.metadata.files(distribution) or []:
        if file.hash is None or file.hash.mode != "sha256":
            continue
        digest = hashlib.sha256(Path(file.locate()).read_bytes()).digest()
        if urlsafe_b64encode(digest).rstrip(b"=").decode() != file.hash.value:
            sys.exit(f"{distribution}: {file} was changed by another install")
        checked += 1
    return checked


def check_neighbours() -> None:
    import entrypoints

    assert callable(entrypoints.get_group_all), "PyPI's entrypoints lost get_group_all"
    spec = importlib.util.find_spec("adapters")
    owned = {str(f) for f in importlib.metadata.files("adapters") or []}
    assert spec is not None and spec.origin is not None
    assert any(spec.origin.endswith(path) for path in owned if path.endswith(
        "adapters/__init__.py")), f"`import adapters` finds {spec.origin}"  # fmt: skip
    import runstream.entrypoints.cli  # noqa: F401

    top = importlib.metadata.distribution("runstream").read_text("top_level.txt")
    assert (top or "").split() == ["runstream"], top
    files = sum(intact(name) for name in ("adapters", "entrypoints"))
    print(f"smoke: PyPI's adapters and entrypoints intact ({files} files) "
          "beside runstream, which installs only `runstream`")  # fmt: skip


def free_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1])


def status(url: str) -> None:
    try:
        print(call("GET", url)[0])
    except urllib.error.HTTPError as err:
        print(err.code)
    except OSError:
        print("000")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"imports": check_imports, "api": check_api, "neighbours": check_neighbours,
     "free-port": free_port, "status": status}[command](*args)  # fmt: skip
