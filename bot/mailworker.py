"""Reading a stored message off the event loop, within a time and a memory budget.

Parsing MIME is CPU-bound and its cost is the sender's choice (80,000 empty parts, 1,500
levels of nesting): on the event loop it would stall SMTP, HTTP, chat and the scheduler
alike. So a worker process reads each message: the shape check (bot.mailscan), the parse,
the report of a bounce and the lines written for this message (only the text body is
walked). The worker's address space is capped (RLIMIT_AS); a read that takes longer than
its budget, runs out of memory, recurses too deep or kills the worker raises OverBudget,
the worker is killed and a fresh one started for the next message. The caller sets such a
message aside for AR: it would fail the same way every time. Only a small message of a
few parts (INLINE_BYTES) is read on the event loop, where it costs less than the trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from email.message import EmailMessage

from bot import bounces, mailscan
from bot.mailtext import body_text, fresh_body_lines
from vault.config_mail import MailLimits
from vault.pool_worker import exit_with_parent

log = logging.getLogger(__name__)

MAX_TEXT = 64 * 1024  # the body text looked at: requests are a few lines at the top
# A message at most this big, of at most this many MIME parts this deep, is read on the
# event loop: the round trip to the worker (2 to 3 ms) costs more than reading a typical
# request (0.7 ms), and the worst such message costs little (measured: an HTML-only body
# of 8 KB, 6 ms). The part count is what a sender can make costly (500 empty parts, which
# the caps allow, take 30 ms in 4 KB): past these limits a message goes to the worker.
INLINE_BYTES = 8 * 1024
INLINE_PARTS = 4  # text and HTML alternatives, and an attachment or two
INLINE_DEPTH = 2


class OverBudget(Exception):
    """The message cannot be read within the limits; the text says which, for AR."""


@dataclass(frozen=True)
class Reading:
    """What the event loop needs of a message, besides its headers."""

    header_size: int  # the top-level header block is raw[:header_size]
    bounce: bounces.Bounce | None
    lines: tuple[str, ...]  # the body lines written for this message
    reply_lines: tuple[str, ...]  # the same, keeping a lone "Thanks," (a reply to ours)


def read_mail(raw: bytes, limits: MailLimits) -> Reading:
    """In the worker: the whole reading of one message. Raises OverBudget."""
    over = mailscan.over_limits(raw, limits)
    if over is not None:
        raise OverBudget(over)
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        bounce = bounces.parse_bounce(msg)
        text = body_text(msg)[:MAX_TEXT]
    except RecursionError:
        raise OverBudget("MIME structure nested too deep to read") from None
    except MemoryError:
        raise OverBudget("reading it took more than the parser's memory budget") from None
    return Reading(mailscan.header_size(raw), bounce, tuple(fresh_body_lines(text)),
                   tuple(fresh_body_lines(text, keep_thanks=True)))


def _limit_worker(max_bytes: int) -> None:
    """Pool initializer: the worker's address space, so a hostile message ends in a
    MemoryError in the worker and never in the machine's OOM killer; and a lower CPU
    priority, so on a busy machine the service's own process is served first."""
    exit_with_parent()
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    os.nice(10)


def _ready() -> bool:
    return True


class MailReader:
    """One worker process that reads messages one at a time (the inbound queue is
    sequential), replaced when a read goes over its budget."""

    def __init__(self, limits: MailLimits) -> None:
        self.limits = limits
        self._inline_limits = replace(limits, max_parts=min(limits.max_parts, INLINE_PARTS),
                                      max_depth=min(limits.max_depth, INLINE_DEPTH))
        self._pool: ProcessPoolExecutor | None = None
        self._ready = False  # the worker has started and imported what it needs

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: a fork copies the service's address space (against the
            # memory cap) and its threads' locks in whatever state they are in.
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_limit_worker,
                initargs=(self.limits.parse_memory,))
        return self._pool

    async def warm_up(self) -> None:
        """Start the worker (at service start, or after one was killed): its start-up is
        not counted against a message's time budget."""
        pool = self._start()
        ready = await asyncio.get_running_loop().run_in_executor(pool, _ready)
        self._ready = ready and pool is self._pool  # not killed meanwhile

    async def read(self, raw: bytes) -> Reading:
        """Read one message, in the worker unless it is small and simple. Raises OverBudget."""
        if self.inline(raw):
            return read_mail(raw, self.limits)
        if not self._ready:
            await self.warm_up()
        pool = self._start()
        budget = self.limits.parse_timeout.total_seconds()
        try:
            async with asyncio.timeout(budget):
                return await asyncio.get_running_loop().run_in_executor(
                    pool, read_mail, raw, self.limits)
        except TimeoutError:
            self._kill()
            raise OverBudget(f"reading it took more than {budget:g}s") from None
        except BrokenProcessPool:
            self._kill()
            raise OverBudget("the parser worker died reading it (memory budget)") from None

    def inline(self, raw: bytes) -> bool:
        """Whether this message is read here, on the event loop (see INLINE_BYTES)."""
        return len(raw) <= INLINE_BYTES and mailscan.over_limits(raw, self._inline_limits) is None

    def _kill(self) -> None:
        """End the worker at once; the next read starts a fresh one."""
        pool, self._pool, self._ready = self._pool, None, False
        if pool is None:
            return
        # The executor has no way to stop a running task: its processes are killed
        # (the mapping is private but stable since 3.2), then it is shut down.
        for process in list((pool._processes or {}).values()):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        log.warning("mail parser worker killed over its budget; a fresh one starts")

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
