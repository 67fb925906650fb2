"""What one HTTP client may hold: a deadline for request headers (uvicorn has none), a
body cap per route enforced while the body streams in, and a deadline for the body.

uvicorn gives the rest ([http] in config.toml, wired in bot.service): max_connections
(`limit_concurrency`, 503 over it), keep_alive_timeout and max_header_size
(`h11_max_incomplete_event_size`). A client that dribbles its headers one byte at a time
resets uvicorn's keep-alive timer with every byte and would stay for ever; the protocol
below closes it once `header_timeout` has passed since the request began.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from vault.config_http import HttpLimits
from vault.links import redact_path

log = logging.getLogger("invoicebot.http")


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are not all in
    within `header_timeout` seconds of the connection (or of the previous response)."""

    header_timeout: float = 15.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request line and headers are in
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_headers()  # kept alive: the next request gets the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.transport.close()  # no answer: a slow client gets nothing more from us


def header_deadline_protocol(header_timeout: float) -> type[H11Protocol]:
    """The protocol class for uvicorn.Config(http=...), with this header deadline."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,),
                {"header_timeout": header_timeout})


class BodyLimit:
    """ASGI middleware: read each request's body, up to its route's cap
    (HttpLimits.body_cap) and within body_timeout, before any handler runs.

    A declared Content-Length over the cap is refused before a byte of the body is read;
    a chunked body is counted as it arrives and refused as soon as it passes the cap. So
    memory per request is bounded by the cap, whatever the client sends, and a handler
    (Slack's, which reads the whole body before checking its signature) never sees more.
    Refusals say `Connection: close`, so uvicorn stops reading the rest.
    """

    def __init__(self, app: ASGIApp, limits: HttpLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.limits.body_cap(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(scope, send, 413, f"The request body is over {cap} bytes.")
            return
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                body = await _read_body(receive, cap)
        except TimeoutError:
            await _refuse(scope, send, 408, "The request body did not arrive in time.")
            return
        if body is None:
            return  # the client left
        if isinstance(body, _TooLarge):
            await _refuse(scope, send, 413, f"The request body is over {cap} bytes.")
            return
        await self.app(scope, _replay(body, receive), send)


class _TooLarge:
    pass


async def _read_body(receive: Receive, cap: int) -> bytes | _TooLarge | None:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > cap:
            return _TooLarge()
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then the real channel (which reports a disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # h11 refuses a bad one first
    return None


async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
    client: Any = scope.get("client") or ("?", 0)
    log.warning("HTTP %s %s from %s: %d %s", scope["method"], redact_path(scope["path"]),
                client[0], status, text)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
        (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
    ]})
    await send({"type": "http.response.body", "body": text.encode() + b"\n"})
