"""One mail must not stop the service: MIME bombs against a running service.

With the default caps, an 80,000-part mail and a 1,500-level nesting are refused at DATA
(554, before any 250). With the caps lifted (as if a relay had let them through, or rows
stored before the caps), they are stored and read in the parser worker: over its time
budget or its stack, the worker is killed and replaced and the message set aside for AR,
unanswered and never tried again. Meanwhile a user downloading a PDF (from another
thread, its own client) waits at most a second for any download started while the
message is read: half the read's budget, so reading the 80k-part mail on the event loop
(it outlasts the budget) would fail it.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

import pytest

from tests.fakes import SmtpSink
from tests.harness import until
from tests.hostile.harness import (
    DownloadProbe,
    hostile_config,
    running_service,
    signed_link,
)
from vault.config import Config
from vault.models import Escalation, InboundMessage, OutboxMessage
from vault.pdf import PdfRenderer

pytestmark = pytest.mark.hostile

SENDER = "ap@acme.example"
HEAD = (b"From: " + SENDER.encode() + b"\r\nTo: invoices@localhost\r\n"
        b"Authentication-Results: invoicebot.local; dmarc=pass header.from=acme.example\r\n"
        b"MIME-Version: 1.0\r\n")
MAX_DELAY = 1.0  # seconds a concurrent download may take at most (issue 12)


def empty_parts(count: int) -> bytes:
    """`count` empty MIME parts: about 0.9 MB for 80,000."""
    return (HEAD + b"Subject: invoices March\r\nMessage-ID: <parts@acme.example>\r\n"
            b'Content-Type: multipart/mixed; boundary="bnd"\r\n\r\n'
            + b"--bnd\r\n\r\n\r\n" * count + b"--bnd--\r\n")


def nested(depth: int) -> bytes:
    """Multiparts nested `depth` deep, a text part at the bottom (about 90 KB for 1,500)."""
    head = (HEAD + b"Subject: invoices March\r\nMessage-ID: <nested@acme.example>\r\n"
            b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n')
    opening = b"".join(b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n'
                       % (level - 1, level) for level in range(1, depth))
    text = b"--b%d\r\nContent-Type: text/plain\r\n\r\ninvoices March\r\n" % (depth - 1)
    closing = b"".join(b"--b%d--\r\n" % level for level in reversed(range(depth)))
    return head + opening + text + closing


BOMBS = {"80k empty parts": (empty_parts(80_000), "parts@acme.example"),
         "1,500-level nesting": (nested(1_500), "nested@acme.example")}


async def test_mime_bombs_are_refused_at_data_under_the_default_caps(
    make_config: Callable[..., Config], sink: SmtpSink, renderer: PdfRenderer, orm: str,
) -> None:
    config = hostile_config(make_config, sink)
    async with running_service(config, sink, renderer, data=False) as running:
        for raw, _ in BOMBS.values():
            with pytest.raises(smtplib.SMTPDataError) as refused:
                await running.send(raw)
            assert refused.value.smtp_code == 554
            assert b"MIME" in refused.value.smtp_error  # says what is wrong with it
        assert await InboundMessage.all().count() == 0  # refused before any 250


@pytest.mark.parametrize("bomb", BOMBS)
async def test_a_mime_bomb_past_the_caps_is_set_aside_without_delaying_downloads(
    bomb: str, make_config: Callable[..., Config], sink: SmtpSink, renderer: PdfRenderer,
    orm: str,
) -> None:
    raw, key = BOMBS[bomb]
    config = hostile_config(
        make_config, sink, INVOICEBOT_EMAIL_MAX_PARTS="1000000",
        INVOICEBOT_EMAIL_MAX_DEPTH="100000", INVOICEBOT_EMAIL_PARSE_TIMEOUT="2s")
    async with running_service(config, sink, renderer) as running:
        url = await signed_link(running)
        await running.service.inbox.reader.warm_up()
        replies = len(sink.messages)
        async with DownloadProbe(url) as probe:
            await probe.warmed()
            await running.send(raw)  # 250: stored whole before it is read
            probe.measure_from_now()  # while it is read (not while it was stored)
            row = await until(lambda: InboundMessage.get_or_none(message_key=key,
                                                                 state="failed"), timeout=30)
        print(f"\n{bomb}: {len(raw):,} bytes; {len(probe.latencies)} downloads meanwhile, "
              f"slowest {probe.slowest:.3f}s")
        assert probe.statuses == {200}
        assert probe.slowest < MAX_DELAY
        assert row.outcome == "unprocessable" and len(bytes(row.raw_message)) == len(raw)
        item = await Escalation.get(kind="unprocessable")
        assert item.address == "bounce@sender.example" and "set aside unread" in item.summary
        assert await running.service.retry_inbound() == 0  # never tried again
        assert await OutboxMessage.filter(recipient=SENDER).count() == replies  # no reply
        # The worker was replaced: the next request, too big to be read on the event loop
        # (bot.mailworker.INLINE_BYTES), is read in the fresh one and answered.
        after = b"\r\n".join([HEAD + b"Subject: invoices March",
                               b"Message-ID: <after@acme.example>", b"", b"Thanks", b"",
                               *[b"> an earlier message, quoted"] * 400])
        assert not running.service.inbox.reader.inline(after)
        await running.send(after)
        await sink.wait_for(replies + 1)
