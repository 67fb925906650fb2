"""Open SMTP connections to one relay, kept for the next message (notifier.delivery's
SmtpSender sends through it).

A connection costs a TCP handshake, the greeting, EHLO, often STARTTLS and AUTH: more
than the message itself on a busy day. So a connection that finished a message cleanly
goes back to the pool and the next message, in this round or the next, takes it. One
the relay closed while it waited is noticed (the loop saw the end of the stream) and
never used; one unused for `idle_timeout` is closed with QUIT, so a quiet service holds
no connections the relay would time out anyway. `keep` bounds how many wait at once;
`keep=0` is one connection per message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiosmtplib

IDLE_TIMEOUT = 15.0  # seconds; well under the 5 minutes relays usually allow an idle client
KEEP = 8  # connections kept open at most (the default of email.outbound_connections)


class RelayConnection(aiosmtplib.SMTP):
    """An aiosmtplib client that remembers whether a message's DATA went out: until it
    did, the relay cannot have accepted the message, so a lost connection may be replaced
    and the message sent again at once without any chance of a duplicate."""

    data_sent = False

    async def data(self, message: str | bytes, /, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_sent = True
        return await super().data(message, **kwargs)


class RelayPool:
    def __init__(self, connect: Callable[[str], RelayConnection], *,
                 idle_timeout: float = IDLE_TIMEOUT, keep: int = KEEP) -> None:
        self._new = connect  # an unconnected client for this envelope sender
        self.idle_timeout = idle_timeout
        self.keep = keep
        self._idle: list[tuple[RelayConnection, float]] = []  # (client, loop time put back)
        self._reaper: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def take(self, sender: str) -> tuple[RelayConnection, bool]:
        """A connected client and whether it was kept from an earlier message."""
        while self._idle:
            client, _ = self._idle.pop()
            if client.is_connected:
                client.data_sent = False
                return client, True
            client.close()
        return await self.open(sender), False

    async def open(self, sender: str) -> RelayConnection:
        client = self._new(sender)
        await client.connect()
        return client

    def put_back(self, client: RelayConnection) -> None:
        """A client whose last conversation ended cleanly, for the next message."""
        if not client.is_connected or len(self._idle) >= self.keep:
            self._quit(client)
            return
        loop = asyncio.get_running_loop()
        self._idle.append((client, loop.time()))
        if self._reaper is None:
            self._reaper = loop.call_later(self.idle_timeout, self._reap)

    def _reap(self) -> None:
        """Close what waited longer than idle_timeout; look again for the rest."""
        self._reaper = None
        now = asyncio.get_running_loop().time()
        stale = [c for c, since in self._idle if now - since >= self.idle_timeout]
        self._idle = [(c, since) for c, since in self._idle if c not in stale]
        for client in stale:
            self._quit(client)
        if self._idle:
            wait = self._idle[0][1] + self.idle_timeout - now
            self._reaper = asyncio.get_running_loop().call_later(max(wait, 0.01), self._reap)

    def _quit(self, client: RelayConnection) -> None:
        task = asyncio.get_running_loop().create_task(_say_goodbye(client))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        """QUIT every kept connection (the service stopping)."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        idle, self._idle = self._idle, []
        for client, _ in idle:
            self._quit(client)
        await asyncio.gather(*self._closing, return_exceptions=True)


async def _say_goodbye(client: RelayConnection) -> None:
    if not client.is_connected:
        client.close()
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        client.close()  # a relay that will not say goodbye still gets closed
    finally:
        with contextlib.suppress(Exception):
            client.close()
