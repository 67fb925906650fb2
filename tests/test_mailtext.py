"""What counts as the request in an email: subject and fresh lines, never quoted history."""

from __future__ import annotations

from email.message import EmailMessage

from bot.mailtext import request_lines


def mail(subject: str, body: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    if html is None:
        msg.set_content(body)
    else:
        msg.set_content(html, subtype="html")
    return msg


def test_subject_prefixes_are_dropped() -> None:
    assert request_lines(mail("RE: AW: Fwd: invoices March", ""))[0] == "invoices March"


def test_gmail_quote_is_cut() -> None:
    body = "unpaid please\n\nOn Mon, 2 Mar 2026 at 10:00, Bot <b@x> wrote:\n> invoices March\n"
    assert request_lines(mail("", body)) == ["unpaid please"]


def test_outlook_header_block_is_cut() -> None:
    body = ("invoice INV-7\n\nFrom: Invoices <invoices@localhost>\nSent: Monday, March 2\n"
            "Subject: Invoices in March\n\nINV-1 INV-2\n")
    assert request_lines(mail("", body)) == ["invoice INV-7"]


def test_signature_is_cut() -> None:
    body = "overdue\n-- \nAnna Petersen\nACME Freight GmbH | invoices March 2019 archive\n"
    assert request_lines(mail("", body)) == ["overdue"]


def test_german_quote_marker_is_cut() -> None:
    body = "offene Rechnungen\nAm 02.03.2026 um 10:00 schrieb Bot <b@x>:\n> alt\n"
    assert request_lines(mail("", body)) == ["offene Rechnungen"]


def test_html_only_mail_is_read_as_text_without_its_quote() -> None:
    html = ("<html><head><style>p{color:red}</style></head><body><p>invoices March</p>"
            "<blockquote>unpaid</blockquote></body></html>")
    assert request_lines(mail("", "", html=html)) == ["invoices March"]
