"""Out of file descriptors: one log line per episode instead of one traceback per accept.

When accept() fails with EMFILE/ENFILE (or ENOBUFS/ENOMEM), asyncio already stops
accepting on that listening socket and tries again a second later, but it reports every
failure through the loop's exception handler, with a traceback: at 20,000 idle
connections that was 343,281 tracebacks. This handler turns them into one warning per
episode (an episode ends after `quiet` seconds without such a failure) and passes every
other report on unchanged. Existing connections keep being served while accepting waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

log = logging.getLogger("invoicebot.accept")
OUT_OF_RESOURCES = "socket.accept() out of system resource"


class AcceptErrors:
    """A loop exception handler; `install` it, `uninstall` it when the service stops."""

    def __init__(self, quiet: float = 30.0) -> None:
        self.quiet = quiet
        self.episodes = 0
        self._last = float("-inf")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._previous = loop, loop.get_exception_handler()
        loop.set_exception_handler(self)

    def uninstall(self) -> None:
        if self._loop is not None and self._loop.get_exception_handler() is self:
            self._loop.set_exception_handler(self._previous)
        self._loop = None

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if _retry_after_close(context):
            return  # the listener closed while asyncio's retry was pending: nothing lost
        if context.get("message") != OUT_OF_RESOURCES:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        # A duration, not a date: the monotonic timer says how long accepting has failed.
        now = time.monotonic()
        if now - self._last > self.quiet:
            self.episodes += 1
            error = context.get("exception")
            log.warning("not accepting connections for now: %s; retrying each second, "
                        "quietly, while it lasts", getattr(error, "strerror", None) or error)
        self._last = now


def _retry_after_close(context: dict[str, Any]) -> bool:
    """asyncio's accept retry (call_later(1, _start_serving)) is not cancelled when its
    server closes; run after the close, it fails with "Invalid file descriptor: -1"."""
    return (isinstance(context.get("exception"), ValueError)
            and "_start_serving" in repr(context.get("handle")))
