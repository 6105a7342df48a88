"""The writer loop's epoll set and the pipe that wakes it from other threads."""

from __future__ import annotations

import contextlib
import os
import select
from typing import Any

HANG_UP = select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR
WRITABLE = select.EPOLLOUT


def _epoll() -> Any:
    """The real epoll: gevent's patching hides it; the poller only polls it
    after the (patched, cooperative) select said it is ready."""
    try:
        from gevent.monkey import get_original

        return get_original("select", "epoll")()
    except ImportError:
        return select.epoll()


class Poller:
    def __init__(self) -> None:
        self._epoll = _epoll()
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._epoll.register(self._read, select.EPOLLIN)

    def watch(self, fd: int, writable: bool = False) -> None:
        """Report the fd's hang-up (and writability when asked)."""
        flags = HANG_UP | WRITABLE if writable else HANG_UP
        try:
            self._epoll.register(fd, flags)
        except FileExistsError:
            self._epoll.modify(fd, flags)

    def forget(self, fd: int) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._epoll.unregister(fd)

    def poke(self) -> None:
        """Wake `wait` (any thread; never blocks)."""
        with contextlib.suppress(BlockingIOError):
            os.write(self._write, b"x")

    def wait(self, timeout: float) -> list[tuple[int, int]]:
        """(fd, flags) of the fds ready within `timeout` seconds (or a poke)."""
        select.select([self._epoll.fileno()], [], [], timeout)
        ready = [(fd, flags) for fd, flags in self._epoll.poll(0) if fd != self._read]
        with contextlib.suppress(BlockingIOError):
            os.read(self._read, 4096)
        return ready
