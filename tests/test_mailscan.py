"""The shape check SMTP runs at DATA (bot.mailscan): each cap, and ordinary mail passing."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mailscan import MAX_HEADER_BYTES, over_limits
from vault.config import ConfigError, load_config
from vault.config_mail import MailLimits

LIMITS = MailLimits(max_parts=10, max_depth=3, max_headers=20)


def multipart(children: int, depth: int = 1) -> bytes:
    head = b"From: a@b.example\r\nSubject: x\r\n"
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n'
                       % (level, level) for level in range(depth))
    siblings = b"".join(b"Content-Type: text/plain\r\n\r\nhi\r\n--b%d\r\n" % (depth - 1)
                        for _ in range(children - 1))
    closing = b"".join(b"--b%d--\r\n" % level for level in reversed(range(depth)))
    return head + opening + siblings + b"Content-Type: text/plain\r\n\r\nhi\r\n" + closing


def test_ordinary_mail_with_an_attachment_passes() -> None:
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "ap@acme.example", "invoices March"
    msg.set_content("invoices March\n")
    msg.add_alternative("<p>invoices March</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf", filename="a.pdf")
    assert over_limits(msg.as_bytes(), LIMITS) is None
    assert over_limits(b"From: a@b.example\r\n\r\nplain text, no MIME\r\n", LIMITS) is None


def test_each_cap_is_named_in_the_refusal() -> None:
    assert over_limits(multipart(10), LIMITS) is None
    assert over_limits(multipart(11), LIMITS) == "more than 10 MIME parts"
    assert over_limits(multipart(1, depth=3), LIMITS) is None
    assert over_limits(multipart(1, depth=4), LIMITS) == "MIME nesting deeper than 3 levels"
    headers = b"".join(b"X-H%d: v\r\n" % n for n in range(21))
    assert over_limits(headers + b"\r\nbody\r\n", LIMITS) == "more than 20 header fields"
    folded = b"Subject: x\r\n" + b" y\r\n" * 100 + b"\r\nbody\r\n"  # one field, folded
    assert over_limits(folded, LIMITS) is None
    huge = b"Subject: " + b"x" * MAX_HEADER_BYTES + b"\r\n\r\nbody\r\n"
    assert over_limits(huge, LIMITS) == "header section over 100 KB"


def test_a_boundary_named_but_never_used_costs_nothing() -> None:
    text = b"From: a@b.example\r\n\r\n" + b"boundary=x\r\n" * 5
    assert over_limits(text, LIMITS) is None


def test_a_limit_below_one_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[email]\nmax_parts = 0\n')
    with pytest.raises(ConfigError, match=r"email\.max_parts: 0 is not a whole number"):
        load_config(path, env={"INVOICEBOT_SECRET_KEYS": "k" * 40})
