"""Test doubles that speak real protocols over loopback.

SmtpSink is a real aiosmtpd server in the test's own event loop. It records what it
accepts, can answer a scripted sequence of replies, and can be stopped and started on the
same port to play a relay that is down:

    async with SmtpSink() as sink:
        sink.answer("451 4.3.0 try later")          # first DATA: 451, then 250 again
        sink.answer(DROP)                            # next DATA: the connection is dropped
        sink.hang_up_after = 3                       # 3 messages per connection, then
                                                     #   dropped at the next MAIL
        ... send to ("127.0.0.1", sink.port) ...
        (mail_from, rcpt_tos, message), = await sink.wait_for(1)
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, NamedTuple

from aiosmtpd.smtp import SMTP, Envelope, Session

DROP = "drop"  # a scripted reply: the relay drops the connection instead of answering


class Received(NamedTuple):
    """One accepted message: a tuple that also reads by name (sink.messages[0].message)."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls  # offers STARTTLS with this server context when set
        self.port = 0  # chosen by the OS on the first start, kept across restarts
        self.messages: list[Received] = []  # accepted (250) messages
        self.attempts: list[EmailMessage] = []  # every DATA, whatever we answered
        self.connections = 0  # SMTP sessions opened by clients, across restarts
        self.hang_up_after = 0  # > 0: drop a connection at MAIL after this many messages
        self._carried: dict[int, int] = {}  # id(session) -> messages it accepted
        self._scripts: dict[str, deque[str]] = {"MAIL": deque(), "RCPT": deque(), "DATA": deque()}
        self._server: asyncio.Server | None = None
        self._sessions: list[SMTP] = []
        self._changed = asyncio.Condition()

    # ---- control ---------------------------------------------------------------------------

    def answer(self, *replies: str | int, at: str = "DATA") -> None:
        """Queue replies for the next commands of one kind (MAIL, RCPT or DATA); when the
        queue is empty the sink accepts. An int becomes e.g. "550 5.0.0 scripted"."""
        for reply in replies:
            text = reply if isinstance(reply, str) else f"{reply} {reply // 100}.0.0 scripted"
            self._scripts[at].append(text)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the port and drop open sessions: the relay is down until start()."""
        if self._server is None:
            return
        self._server.close()
        for session in self._sessions:
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        tasks = [s._handler_coroutine for s in self._sessions if s._handler_coroutine]
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sessions.clear()
        self._server = None

    async def wait_for(self, n: int, timeout: float = 20) -> list[Received]:
        """Wait until at least n messages were accepted; returns all accepted so far."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.messages) >= n),
                                   timeout)
        return list(self.messages)

    async def __aenter__(self) -> SmtpSink:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _protocol(self) -> SMTP:
        session = SMTP(self, hostname="sink.test", ident="SmtpSink",
                       loop=asyncio.get_running_loop(), tls_context=self.tls)
        self._sessions.append(session)
        self.connections += 1
        return session

    # ---- aiosmtpd hooks ------------------------------------------------------------------

    def _next(self, command: str) -> str:
        script = self._scripts[command]
        return script.popleft() if script else "250 OK"

    @staticmethod
    def _drop(server: SMTP) -> str:
        """Abort the connection: the client sees it end, with no answer to what it sent."""
        if server.transport is not None:
            server.transport.abort()
        return "421 4.3.2 dropped"  # never reaches the client

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        if self.hang_up_after and self._carried.get(id(session), 0) >= self.hang_up_after:
            return self._drop(server)
        reply = self._next("MAIL")
        if reply.startswith("2"):
            envelope.mail_from = address
            envelope.mail_options.extend(options)
        return reply

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        reply = self._next("RCPT")
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message: Any = message_from_bytes(envelope.original_content or b"",
                                          policy=default_policy)
        self.attempts.append(message)
        reply = self._next("DATA")
        if reply == DROP:
            return self._drop(server)
        if reply.startswith("2"):
            self._carried[id(session)] = self._carried.get(id(session), 0) + 1
            async with self._changed:
                self.messages.append(
                    Received(str(envelope.mail_from), list(envelope.rcpt_tos), message))
                self._changed.notify_all()
        return reply


def empty_config(folder: Path) -> Path:
    """An empty config.toml (all defaults): a named config file must exist."""
    path = folder / "empty.toml"
    path.write_text("")
    return path
