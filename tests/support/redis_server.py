"""A throwaway `redis-server` for fault injection: stop it, restart it, freeze it.

    with RedisServer(appendonly=True) as server:
        client = redis.Redis.from_url(server.url)
        server.stop()            # clean shutdown; server.stop(kill=True) for SIGKILL
        server.start()           # same port, same directory, same data
        server.freeze()          # SIGSTOP: connections hang instead of failing
        server.thaw()

`RedisServer(cluster=True)` is a one-node Redis Cluster that owns every slot;
with `assign_slots=False` it is a bare cluster node (see tests.support.redis_cluster).
The process is always ended: on `__exit__`, on `close()`, and at interpreter exit.
"""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from redis import Redis

from tests.services import require_program
from tests.support.polling import poll

_READY_SECONDS = 10.0
_POLL_SECONDS = 0.01
_CLUSTER_BUS_OFFSET = 10_000
_START_ATTEMPTS = 3


# What the server writes besides its data: kept across an empty restart.
_LOGS = ("stderr.log", "redis.log")
_PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"


def free_port(*, cluster: bool = False) -> int:
    """A loopback port nobody listens on right now, below the kernel's range of
    ephemeral ports: a server restarted on its port (an outage test) must not
    find it taken meanwhile as the local port of some outgoing connection (a
    loaded suite run: 'bind: Address already in use' on port 52308). For a
    cluster node, its bus port (10,000 higher) is free and below it as well."""
    below = _ephemeral_start() - (_CLUSTER_BUS_OFFSET if cluster else 0)
    while True:
        port = random.randrange(10_000, below)
        ports = (port, port + _CLUSTER_BUS_OFFSET) if cluster else (port,)
        if all(_bindable(p) for p in ports):
            return port


def _ephemeral_start() -> int:
    """The first port the kernel may give an outgoing connection (Linux)."""
    try:
        return int(Path(_PORT_RANGE).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


class RedisServer:
    """One redis-server on 127.0.0.1, its data in a temporary directory."""

    def __init__(
        self,
        *,
        appendonly: bool = False,
        save: str = "",
        config: Sequence[str] = (),
        cluster: bool = False,
        assign_slots: bool = True,
        port: int | None = None,
        binary: str = "redis-server",
    ) -> None:
        self._cluster = cluster
        self._assign_slots = cluster and assign_slots
        self._movable = port is None
        self.port = port or free_port(cluster=cluster)
        self.dir = Path(tempfile.mkdtemp(prefix="runstream-redis-"))
        self._binary = require_program(binary)
        self._config = [
            *("--bind", "127.0.0.1", "--dir", str(self.dir), "--daemonize", "no"),
            *("--appendonly", "yes" if appendonly else "no", "--save", save),
            *("--logfile", "redis.log"),
            *(
                ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
                if cluster
                else ()
            ),
            *config,
        ]
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer = weakref.finalize(self, _cleanup, [None], self.dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> RedisServer:
        """Start (again) on the same port and directory; return once it answers.

        Before the first start a port taken meanwhile is swapped for another."""
        if self.running:
            return self
        for attempt in range(_START_ATTEMPTS if self._movable else 1):
            if attempt:
                self.port = free_port(cluster=self._cluster)
            self._spawn()
            if self._await_ready():
                break
        else:
            self._failed("exited during start-up")
        self._movable = False
        if self._assign_slots:
            self._serve_every_slot()
        return self

    def stop(self, *, kill: bool = False, timeout: float = 10.0) -> None:
        """Shut down cleanly (SIGTERM: Redis saves what it is configured to save),
        or SIGKILL with `kill=True`; a frozen server is thawed first."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.send_signal(signal.SIGCONT)
            process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart_empty(self, down_seconds: float = 0.0) -> None:
        """SIGKILL, `down_seconds` down, then start again without any data it
        kept (RDB, AOF): a restart that lost everything. Its logs stay."""
        self.stop(kill=True)
        time.sleep(down_seconds)
        for leftover in self.dir.iterdir():
            if leftover.name not in _LOGS:
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        self.start()

    def freeze(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: the server goes on where it stopped."""
        self._signal(signal.SIGCONT)

    def close(self) -> None:
        """Kill the process and remove the directory."""
        self.stop(kill=True)
        self._finalizer()

    def log(self) -> str:
        """What the server wrote: its stderr, then its log file."""
        paths = [self.dir / name for name in _LOGS]
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _spawn(self) -> None:
        # Start-up errors go to stderr before the log file is open.
        with open(self.dir / "stderr.log", "ab") as output:
            self._process = subprocess.Popen(
                [self._binary, "--port", str(self.port), *self._config],
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _cleanup, [self._process], self.dir)

    def _await_ready(self) -> bool:
        """True once the server answers PING; False if it exited first."""
        settled = poll(
            lambda: not self.running or _answers_ping(self.port),
            _READY_SECONDS,
            _POLL_SECONDS,
        )
        if settled:
            return self.running
        self.stop(kill=True)
        self._failed(f"did not answer PING within {_READY_SECONDS:.0f} s")
        return False

    def _serve_every_slot(self) -> None:
        with Redis(port=self.port, decode_responses=True) as node:
            if "cluster_slots_assigned:16384" not in node.execute_command(
                "CLUSTER", "INFO"
            ):
                node.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            deadline = time.monotonic() + _READY_SECONDS
            while "cluster_state:ok" not in node.execute_command("CLUSTER", "INFO"):
                if time.monotonic() > deadline:
                    self._failed("never reported cluster_state:ok")
                time.sleep(_POLL_SECONDS)

    def _signal(self, number: signal.Signals) -> None:
        if not self.running or self._process is None:
            raise RuntimeError(f"redis-server on port {self.port} is not running")
        self._process.send_signal(number)

    def _failed(self, what: str) -> None:
        raise RuntimeError(
            f"redis-server on port {self.port} {what}; its log:\n{self.log()[-2000:]}"
        )


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _answers_ping(port: int) -> bool:
    """True once the server replies +PONG (not -LOADING while it reads its data)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _cleanup(processes: list[subprocess.Popen[bytes] | None], directory: Path) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
    shutil.rmtree(directory, ignore_errors=True)
