"""The writer loop's epoll set, and how the loop waits on it and is woken.

Under gevent (the server's workers) the loop is a greenlet: it waits on an
event that a persistent watcher of the epoll fd sets, and a poke sets the same
event, so waking the loop costs no system call. With plain threads (tests, other
servers) it waits in select on the epoll fd and a pipe, and a poke writes a byte.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from typing import Any

HANG_UP = select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR
WRITABLE = select.EPOLLOUT


def _original(module: str, name: str) -> Any:
    """The unpatched `module.name` (gevent's patching hides real epoll)."""
    try:
        from gevent.monkey import get_original
    except ImportError:
        return getattr(__import__(module), name)
    return get_original(module, name)


def _gevent_patched() -> bool:
    try:
        from gevent.monkey import is_module_patched
    except ImportError:
        return False
    return bool(is_module_patched("threading"))


class Poller:
    def __init__(self) -> None:
        self._epoll = _original("select", "epoll")()
        self._event = threading.Event()
        self._ident = _original("_thread", "get_ident")
        self._os_thread = self._ident()
        self._pipe: tuple[int, int] | None = None
        self._watchers: tuple[Any, Any] | None = None
        if _gevent_patched():
            from gevent import get_hub

            loop = get_hub().loop
            readable = loop.io(self._epoll.fileno(), 1)
            woken = loop.async_()  # a poke from another OS thread
            for watcher in (readable, woken):
                watcher.ref = False  # they keep no loop alive
                watcher.start(self._event.set)
            self._watchers = (readable, woken)
        else:
            self._pipe = os.pipe()
            for fd in self._pipe:
                os.set_blocking(fd, False)
            self._epoll.register(self._pipe[0], select.EPOLLIN)

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
        if self._pipe is not None:
            with contextlib.suppress(BlockingIOError):
                os.write(self._pipe[1], b"x")
        elif self._ident() == self._os_thread:
            self._event.set()
        else:
            assert self._watchers is not None
            self._watchers[1].send()

    def wait(self, timeout: float) -> list[tuple[int, int]]:
        """(fd, flags) of the fds ready within `timeout` seconds (or a poke)."""
        if self._pipe is None:
            self._event.wait(timeout)
            self._event.clear()
            return self._epoll.poll(0)  # type: ignore[no-any-return]
        select.select([self._epoll.fileno()], [], [], timeout)
        ready = [
            (fd, flags) for fd, flags in self._epoll.poll(0) if fd != self._pipe[0]
        ]
        with contextlib.suppress(BlockingIOError):
            os.read(self._pipe[0], 4096)
        return ready
