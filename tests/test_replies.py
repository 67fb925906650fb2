"""Replies: one reply for several requests, readable with or without knowing sections."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.messages import Link, ListingRow, Reply, Request
from bot.outgoing import reply_message
from bot.replies import combine, reply_text
from notifier.email_send import html as email_html
from vault.formats import Formats
from vault.vocabulary import Channel, OutboxKind

FMT = Formats.of("en_GB", "Europe/London")
LINK = Link("statement.pdf", "http://x/d/s", datetime(2026, 11, 28, tzinfo=UTC))
ROW = ListingRow("INV-1", "1 Mar 2026", "31 Mar 2026", "€10.00", "open",
                  Link("INV-1", "http://x/d/i", datetime(2026, 11, 28, tzinfo=UTC)))
LISTING = Reply(subject="Unpaid invoices: 1 invoice", intro="Unpaid invoices: 1 invoice.",
                rows=(ROW,), links_expire="28 Nov 2026")
STATEMENT = Reply(subject="Statement for 2026", intro="Here is your statement.", links=(LINK,),
                  notes=("EUR: closing balance €10.00",), links_expire="28 Nov 2026")


def test_one_request_is_its_own_reply() -> None:
    assert combine([LISTING], date(2026, 11, 21), FMT) is LISTING


def test_several_requests_become_numbered_sections_with_one_expiry_line() -> None:
    text = reply_text(combine([LISTING, STATEMENT], date(2026, 11, 21), FMT))
    assert text.startswith("You asked for 2 things on 21 Nov 2026; each answer follows.\n\n"
                           "1. Unpaid invoices: 1 invoice\n")
    assert "\n2. Statement for 2026\n" in text
    assert text.index("INV-1") < text.index("2. Statement") < text.index("statement.pdf")
    assert text.count("Links expire") == 1


def test_a_renderer_that_ignores_sections_still_sees_every_row_link_and_note() -> None:
    combined = combine([LISTING, STATEMENT], date(2026, 11, 21), FMT)
    assert combined.rows == (ROW,) and combined.links == (LINK,)
    assert combined.notes == ("Unpaid invoices: 1 invoice: Unpaid invoices: 1 invoice.",
                              "Statement for 2026: Here is your statement.",
                              "EUR: closing balance €10.00")
    assert combined.subject == "Your 2 requests: Unpaid invoices: 1 invoice; Statement for 2026"


def test_html_sections_are_headed_and_escaped() -> None:
    hostile = Reply(subject="<b>x</b>", intro="a & b")
    reply = combine([hostile, STATEMENT], date(2026, 11, 21), FMT)
    html = email_html(reply_message(reply, key="k", kind=OutboxKind.REPLY,
                                    channel=Channel.EMAIL, recipient="a@x", contact_id=1))
    assert ">1. &lt;b&gt;x&lt;/b&gt;</h3>" in html and ">a &amp; b</p>" in html
    assert '<a href="http://x/d/s" style=' in html and ">statement.pdf</a>" in html


def test_periods_read_as_people_say_them() -> None:
    assert FMT.period(date(2026, 3, 1), date(2026, 3, 31)) == "March 2026"
    assert FMT.period(date(2026, 12, 1), date(2026, 12, 31)) == "December 2026"
    assert FMT.period(date(2025, 1, 1), date(2025, 12, 31)) == "2025"
    assert FMT.period(date(2026, 4, 1), date(2026, 6, 30)) == "Q2 2026"
    assert FMT.period(date(2026, 10, 1), date(2026, 12, 31)) == "Q4 2026"
    assert FMT.period(date(2026, 3, 4), date(2026, 3, 9)) == "4 Mar 2026 – 9 Mar 2026"
    assert FMT.period(date(2026, 2, 1), date(2026, 4, 30)) == "1 Feb 2026 – 30 Apr 2026"


def test_request_text_loses_control_characters_but_keeps_lines() -> None:
    # A NUL in a mail body must not reach the database (PostgreSQL text rejects it).
    request = Request(channel="email", address="ap@acme.example",
                      text="talk to a person \x00\x1b\nthanks\t!", authenticated=True,
                      received_at=datetime(2026, 11, 21, tzinfo=UTC))
    assert request.text == "talk to a person \nthanks\t!"
