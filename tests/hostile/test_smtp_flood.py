"""A connection flood against the running SMTP listener: 500 idle connections from 25
addresses are capped (421 beyond 15 per address or 300 in all) and the rest cut by the
idle timeout, while mail from our relay is still received and answered; a peer sending
too fast gets a 450 at MAIL FROM."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
from collections import Counter
from collections.abc import Callable

import pytest

from tests.fakes import SmtpSink
from tests.harness import request_mail
from tests.hostile.harness import CONTACT, hostile_config, running_service
from vault.config import Config
from vault.pdf import PdfRenderer

pytestmark = pytest.mark.hostile

IDLE = 5  # seconds: email.idle_timeout in these tests (30 by default)
PEERS = [f"127.0.0.{n}" for n in range(2, 27)]  # 25 addresses, none a trusted relay
PER_PEER = 20  # connections each: 500 in all


async def idle_connection(port: int, peer: str) -> tuple[str, asyncio.StreamReader,
                                                          asyncio.StreamWriter]:
    """Connect from `peer`, read the server's first line, then say nothing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(peer, 0))
    first = await asyncio.wait_for(reader.readline(), 20)
    return first.decode().strip(), reader, writer


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """The server hung up (EOF) within the idle timeout and some slack; we sent nothing."""
    return await asyncio.wait_for(reader.read(), IDLE + 10) == b""


async def test_500_idle_connections_are_capped_and_cut_while_relayed_mail_is_answered(
    make_config: Callable[..., Config], sink: SmtpSink, renderer: PdfRenderer, orm: str,
) -> None:
    config = hostile_config(
        make_config, sink, INVOICEBOT_EMAIL_IDLE_TIMEOUT=f"{IDLE}s",
        INVOICEBOT_EMAIL_MAX_CONNECTIONS="300", INVOICEBOT_EMAIL_MAX_CONNECTIONS_PER_PEER="15")
    async with running_service(config, sink, renderer) as running:
        port = running.service.smtp_port
        # Fifty at a time, as a flood comes: opened one by one on a busy machine, the
        # first would be cut by the idle timeout before the last arrive (and all at once
        # overflow the listen backlog: the kernel makes the rest wait seconds).
        wave = asyncio.Semaphore(50)

        async def connect(peer: str) -> tuple[str, asyncio.StreamReader, asyncio.StreamWriter]:
            async with wave:
                return await idle_connection(port, peer)

        flood = await asyncio.gather(*(connect(peer) for peer in PEERS for _ in range(PER_PEER)))
        answers = Counter(first[:3] for first, _, _ in flood)
        refusals = Counter(first for first, _, _ in flood if first.startswith("421"))
        print(f"\n500 idle connections: {dict(answers)}; {dict(refusals)}")
        assert answers["220"] + answers["421"] == 500
        assert 0 < answers["220"] <= 300 + PER_PEER  # a few may be cut before the last
        assert any("from your address" in text for text in refusals)  # per-peer cap
        assert any(text.endswith("Too many connections, try again later")
                   for text in refusals)  # the global cap

        # Meanwhile our relay hands over a real request: received and answered.
        await running.send(request_mail(CONTACT, "invoices March"))
        (reply,) = await sink.wait_for(1)
        assert reply.rcpt_tos == [CONTACT]

        # Every connection ends: refused at once, or cut by the idle timeout.
        assert all(await asyncio.gather(*(closed_by_server(r) for _, r, _ in flood)))
        for _, _, writer in flood:
            writer.close()
        assert running.service.smtp_guard.total == 0  # every slot given back


async def test_a_peer_sending_too_fast_is_told_to_retry_later(
    make_config: Callable[..., Config], sink: SmtpSink, renderer: PdfRenderer, orm: str,
) -> None:
    config = hostile_config(make_config, sink, INVOICEBOT_EMAIL_MESSAGE_RATE="2/min")
    async with running_service(config, sink, renderer) as running:
        for n in range(2):  # within the rate: received (from an unknown sender: no reply)
            await running.send(request_mail(f"x{n}@elsewhere.example", "hello"), "127.0.0.9")
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            await running.send(request_mail("x3@elsewhere.example", "hello"), "127.0.0.9")
        assert refused.value.smtp_code == 450  # temporary: the sender's queue retries
        await running.send(request_mail(CONTACT, "invoices March"))  # our relay: no rate
        await sink.wait_for(1)


async def test_a_slow_upload_is_cut_by_the_command_timeout(
    make_config: Callable[..., Config], sink: SmtpSink, renderer: PdfRenderer, orm: str,
) -> None:
    """DATA's content trickling in (a byte a second keeps no idle timer from firing on a
    server that resets it per read) is cut when the command's own time is up."""
    config = hostile_config(make_config, sink, INVOICEBOT_EMAIL_COMMAND_TIMEOUT="2s")
    async with running_service(config, sink, renderer, data=False) as running:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", running.service.smtp_port, local_addr=("127.0.0.40", 0))
        await reader.readline()  # 220
        for command in (b"HELO slow.example", b"MAIL FROM:<a@slow.example>",
                        b"RCPT TO:<invoices@localhost>", b"DATA"):
            writer.write(command + b"\r\n")
            assert (await reader.readline())[:3] in (b"250", b"354")

        async def trickle() -> None:
            for byte in b"Subject: slow\r\n\r\n" * 10:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.25)

        sending = asyncio.create_task(trickle())
        assert await asyncio.wait_for(reader.read(), 10) == b""  # cut: EOF, no 250
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        writer.close()
        assert running.service.smtp_guard.total == 0
