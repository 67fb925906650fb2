"""Stopping the SMTP listener the way a mail server should: every open session is told
421 (the sender keeps the message and retries), and one in the middle of DATA first gets
its 250, because by then its message is stored and will be answered after the restart."""

from __future__ import annotations

import asyncio
import re

from bot.service import Service
from tests.fakes import SmtpSink
from tests.harness import PUBLIC_URL, fixed_clock, load_e2e_data, request_mail
from vault.pdf import PdfRenderer

TIMEOUT = 30


async def line(reader: asyncio.StreamReader) -> str:
    return (await asyncio.wait_for(reader.readline(), TIMEOUT)).decode()


async def reply(reader: asyncio.StreamReader) -> str:
    """One SMTP reply, its continuation lines ("250-...") read through to the last."""
    while (text := await line(reader))[3:4] == "-":
        pass
    return text


async def session(port: int, *commands: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert (await reply(reader)).startswith("220")
    for command in commands:
        writer.write(command.encode() + b"\r\n")
        await writer.drain()
        assert (await reply(reader))[0] in "23", command
    return reader, writer


async def test_stop_tells_open_sessions_421_and_answers_the_data_in_flight_first(
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str,  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
                         INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
                         INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32")
    service = Service(config, clock=fixed_clock())
    await service.start()
    await load_e2e_data(config, renderer)
    port = service.smtp_port

    idle_reader, idle_writer = await session(port, "EHLO idle.example")
    request = request_mail("ap@acme.example", "invoice INV-2026-0301")
    raw = re.sub(rb"(?<!\r)\n", b"\r\n", request.as_bytes())
    data_reader, data_writer = await session(
        port, "EHLO busy.example", "MAIL FROM:<bounce@sender.example>",
        "RCPT TO:<invoices@localhost>", "DATA")
    data_writer.write(raw[: len(raw) // 2])  # half the message is in: the stop comes now
    await data_writer.drain()

    stopping = asyncio.create_task(service.stop())
    try:
        assert (await line(idle_reader)).startswith("421 4.3.2 ")
        assert await idle_reader.read() == b""  # and closed
        data_writer.write(raw[len(raw) // 2:] + b"\r\n.\r\n")
        await data_writer.drain()
        assert (await line(data_reader)).startswith("250 ")  # stored: ours to answer
        assert (await line(data_reader)).startswith("421 4.3.2 ")
        assert await data_reader.read() == b""
        await asyncio.wait_for(stopping, TIMEOUT)
    finally:
        idle_writer.close()
        data_writer.close()
        if not stopping.done():
            stopping.cancel()

    # The message that got its 250 during the stop is answered after the restart.
    service = Service(config, clock=fixed_clock())
    await service.start()
    try:
        answered = await sink.wait_for(1)
        assert answered[0].message["In-Reply-To"] == request["Message-ID"]
    finally:
        await service.stop()
