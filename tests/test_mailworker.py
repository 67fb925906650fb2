"""Where a stored message is read (bot.mailworker): a small request of a few parts on the
event loop, anything bigger or of more parts in the budgeted worker; both read alike."""

from __future__ import annotations

from collections.abc import Iterator
from email.policy import SMTP

import pytest

from bot.mailworker import INLINE_BYTES, MailReader, read_mail
from tests.harness import request_mail
from vault.config_mail import MailLimits

HEAD = (b"From: ap@acme.example\r\nTo: invoices@localhost\r\nSubject: invoices March\r\n"
        b"MIME-Version: 1.0\r\n")


def parts(count: int) -> bytes:
    return (HEAD + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n'
            + b"--p\r\nContent-Type: text/plain\r\n\r\nunpaid\r\n" * count + b"--p--\r\n")


def nested(depth: int) -> bytes:
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n'
                       % (level, level) for level in range(depth))
    closing = b"".join(b"\r\n--n%d--\r\n" % level for level in reversed(range(depth)))
    return HEAD + opening + b"Content-Type: text/plain\r\n\r\nunpaid\r\n" + closing


@pytest.fixture
def reader() -> Iterator[MailReader]:
    reader = MailReader(MailLimits())
    yield reader
    reader.close()


def test_a_typical_request_is_read_on_the_event_loop_and_a_costly_one_is_not(
    reader: MailReader,
) -> None:
    typical = request_mail("ap@acme.example", "invoices March").as_bytes(policy=SMTP)
    assert reader.inline(typical) and reader.inline(parts(4)) and reader.inline(nested(2))
    assert not reader.inline(parts(5))  # the part count is what a sender makes costly
    assert not reader.inline(nested(3))
    assert not reader.inline(HEAD + b"\r\n" + b"x" * INLINE_BYTES)  # too big


async def test_both_ways_read_a_message_alike(reader: MailReader) -> None:
    quoted = b"> an earlier message\r\n" * (INLINE_BYTES // 20)
    small = HEAD + b"\r\nunpaid\r\nThanks,\r\nAnna\r\n"
    big = small + quoted
    assert reader.inline(small) and not reader.inline(big)
    for raw in (small, big):
        reading = await reader.read(raw)
        assert reading == read_mail(raw, reader.limits)
        assert reading.lines == ("unpaid",)  # not the sign-off, not the quote
