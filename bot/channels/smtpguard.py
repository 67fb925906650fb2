"""SMTP hygiene: what one connection and one peer may hold of the service.

aiosmtpd closes a connection that sends no complete command for `timeout` seconds (its
timer is reset by each valid command only, so a client trickling bytes is cut too); it
has no caps on connections or message rates. GuardedSMTP adds them, the way Postfix's
smtpd and anvil do:

- idle_timeout: aiosmtpd's `timeout`, between commands;
- command_timeout: one command's whole run, DATA's content included (a slow upload);
- max_connections (all peers) and max_connections_per_peer: beyond either, the new
  connection gets `421` and is closed before the greeting, so it costs one accept;
- message_rate per peer: beyond it, MAIL FROM gets `450` (the sender queues and retries).
- at shutdown every open session is told `421` and closed; one in the middle of DATA
  first gets its answer (250 once its row is stored), then the 421.
Trusted relays (email.trusted_relays) are exempt from the caps and the rate, though
counted: all legitimate mail may come through them, and a flood from elsewhere must not
lock our own relay out.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP

from vault.config import EmailConfig

log = logging.getLogger(__name__)

TOO_MANY = "421 4.7.0 Too many connections, try again later"
TOO_MANY_FROM_YOU = "421 4.7.0 Too many connections from your address, try again later"
SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"
TOO_FAST = "450 4.7.1 Too many messages from your address, try again later"
_RATE_PEERS = 10_000  # at most this many peers' windows kept in memory


@dataclass
class PeerLimits:
    """The counts one listening server keeps: open connections and message windows."""

    config: EmailConfig
    open: Counter[str] = field(default_factory=Counter)
    total: int = 0
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)
    sessions: set[GuardedSMTP] = field(default_factory=set)
    stopping: bool = False
    _all_ended: asyncio.Event = field(default_factory=asyncio.Event)

    def trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.config.trusted_relays)

    def admit(self, peer: str) -> str | None:
        """Count a new connection in; the refusal to send instead, if it is one too many."""
        limits, trusted = self.config.limits, self.trusted(peer)
        if self.total >= limits.max_connections and not trusted:
            return TOO_MANY
        if self.open[peer] >= limits.max_connections_per_peer and not trusted:
            return TOO_MANY_FROM_YOU
        self.open[peer] += 1
        self.total += 1
        return None

    async def shut_down(self, grace: float) -> None:
        """Tell every open session 421 and wait (at most `grace` seconds) for them to end;
        a session in DATA gets its answer first. The listener is already closed."""
        self.stopping = True
        for session in list(self.sessions):
            session.say_goodbye()
        if self.sessions:
            self._all_ended.clear()
            try:
                async with asyncio.timeout(grace):
                    await self._all_ended.wait()
            except TimeoutError:
                log.warning("smtp: %d session(s) still open %.0f s after the stop began; "
                            "closing them", len(self.sessions), grace)
                for session in list(self.sessions):
                    session.cut()

    def ended(self, session: GuardedSMTP) -> None:
        self.sessions.discard(session)
        if not self.sessions:
            self._all_ended.set()

    def release(self, peer: str) -> None:
        self.total -= 1
        self.open[peer] -= 1
        if self.open[peer] <= 0:
            del self.open[peer]

    def message_allowed(self, peer: str, now: float) -> bool:
        """One more message from `peer` in its rate window (fixed windows of `per`)."""
        if self.trusted(peer):
            return True
        rate = self.config.limits.message_rate
        start, count = self._windows.get(peer, (now, 0))
        if now - start >= rate.per.total_seconds():
            start, count = now, 0
        if count >= rate.requests:
            return False
        if len(self._windows) >= _RATE_PEERS and peer not in self._windows:
            self._forget_ended(now)
        self._windows[peer] = (start, count + 1)
        return True

    def _forget_ended(self, now: float) -> None:
        per = self.config.limits.message_rate.per.total_seconds()
        for peer, (start, _) in list(self._windows.items()):
            if now - start >= per:
                del self._windows[peer]


class _YieldingReader:
    """aiosmtpd reads DATA one line at a time and awaits nothing while lines are buffered:
    a 1 MB message of empty lines (80,000 MIME parts) would hold the event loop for over
    a second. This reader lets the loop run other tasks every few dozen lines (a download
    needs a dozen turns of the loop, so each turn must be short)."""

    _EVERY = 32

    def __init__(self, reader: asyncio.StreamReader) -> None:
        object.__setattr__(self, "_stream", reader)
        object.__setattr__(self, "_lines", 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __setattr__(self, name: str, value: Any) -> None:  # STARTTLS swaps the transport
        setattr(self._stream, name, value)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        lines = self._lines + 1
        object.__setattr__(self, "_lines", lines)
        if lines % self._EVERY == 0:
            await asyncio.sleep(0)
        stream: asyncio.StreamReader = self._stream
        return await stream.readuntil(separator)


class GuardedSMTP(SMTP):
    """aiosmtpd's SMTP with the caps and timeouts above."""

    def __init__(self, *args: Any, limits: PeerLimits, **kwargs: Any) -> None:
        self.limits = limits
        self.command_timeout = limits.config.limits.command_timeout.total_seconds()
        super().__init__(*args, timeout=limits.config.limits.idle_timeout.total_seconds(),
                         **kwargs)
        self._peer_ip: str | None = None  # set once admitted
        self._in_data = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._peer_ip is not None:  # STARTTLS: the same connection, already counted
            super().connection_made(transport)
            return
        peername = transport.get_extra_info("peername")
        peer = str(peername[0]) if isinstance(peername, tuple) else str(peername)
        refusal = SHUTTING_DOWN if self.limits.stopping else self.limits.admit(peer)
        if refusal is not None:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(refusal.encode() + b"\r\n")
            transport.close()
            return
        self._peer_ip = peer
        self.limits.sessions.add(self)
        super().connection_made(transport)

    def _cb_client_connected(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        super()._cb_client_connected(_YieldingReader(reader), writer)  # type: ignore[arg-type]

    def connection_lost(self, error: Exception | None) -> None:
        if self._peer_ip is None:  # refused at connect: aiosmtpd never saw it
            return
        self.limits.release(self._peer_ip)
        self.limits.ended(self)
        super().connection_lost(error)

    async def smtp_MAIL(self, arg: str | None) -> None:
        if self._peer_ip and not self.limits.message_allowed(self._peer_ip, self.loop.time()):
            await self.push(TOO_FAST)
            return
        await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg: str | None) -> None:
        # aiosmtpd's timer runs from the last command: DATA's upload gets its own budget.
        self._reset_timeout(self.command_timeout)
        self._in_data = True
        try:
            await super().smtp_DATA(arg)
        finally:
            self._in_data = False
            if self.limits.stopping:
                self.say_goodbye()  # its answer is sent: now the 421
            elif self.transport is not None:
                self._reset_timeout()

    def say_goodbye(self) -> None:
        """421 and close, unless a DATA is being answered (smtp_DATA says it after)."""
        if self._in_data or self.transport is None:
            return
        assert isinstance(self.transport, asyncio.WriteTransport)
        self.transport.write(SHUTTING_DOWN.encode() + b"\r\n")
        self.cut()

    def cut(self) -> None:
        if self.transport is not None:
            self.transport.close()
