"""Who sent an email: the From rule, machine mail, relay results and our own DKIM check."""

from __future__ import annotations

import base64
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.mailauth import (
    Refusal,
    authenticated_by_relay,
    auto_generated_reason,
    is_auto_generated,
    parse_sender,
    verify_dkim,
)
from bot.maildomain import aligned
from vault.config import Config, EmailConfig

RELAY = "127.0.0.1"  # in the default email.trusted_relays
STRANGER = "203.0.113.5"


def parse(head: str, body: str = "invoices March\r\n") -> EmailMessage:
    raw = (head.strip() + "\r\n\r\n" + body).encode()
    message: EmailMessage = message_from_bytes(raw, policy=default_policy)  # type: ignore[assignment]
    return message


@pytest.fixture
def email_config(config: Config) -> EmailConfig:
    return config.email


# ---- parse_sender ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("From: Alice <Alice@Example.COM>", "alice@example.com"),
        ('From: "bob@evil.example" <alice@example.com>', "alice@example.com"),
        ("From: J. Smith <j@example.com>", "j@example.com"),  # obsolete syntax is fine
    ],
)
def test_sender_is_the_single_from_mailbox_lower_cased(head: str, expected: str) -> None:
    assert parse_sender(parse(head)) == expected


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        ("To: invoices@localhost", "no From"),
        ("From: a@example.com\r\nFrom: b@example.com", "several From headers"),
        ("From: a@example.com, b@example.com", "several mailboxes in From"),
        ("From: alice@example.org)<bob@example.org>", "malformed From"),
        ("From: alice@example.com <bob@evil.example>", "malformed From"),
        ("From: undisclosed-recipients:;", "malformed From"),
        ("From: Team: a@example.com;", "malformed From"),
        ("From: garbage", "malformed From"),
        ("From: <>", "malformed From"),
        ("From: alice@", "malformed From"),
        ("From: a@[192.0.2.1]", "malformed From"),
    ],
)
def test_ambiguous_or_malformed_from_is_refused(head: str, reason: str) -> None:
    assert parse_sender(parse(head)) == Refusal(reason)


def test_utf8_address_from_smtputf8_mail_is_text() -> None:
    raw = "From: Jörg <jörg@example.de>\r\n\r\nhi\r\n".encode()
    message: Any = message_from_bytes(raw, policy=default_policy)
    assert parse_sender(message) == "jörg@example.de"


# ---- machine-written mail -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("head", "mail_from", "reason"),
    [
        ("Auto-Submitted: auto-replied", "a@example.com", "auto-submitted: auto-replied"),
        ("Auto-Submitted: auto-generated; owner-email=x@y", "a@x.com",
         "auto-submitted: auto-generated"),
        ("Precedence: bulk", "a@example.com", "precedence bulk"),
        ("Precedence: Junk", "a@example.com", "precedence bulk"),
        ("Precedence: list", "a@example.com", "precedence bulk"),
        ("X-Autoreply: yes", "a@example.com", "autoresponder header"),
        ("Subject: hi", "", "null envelope sender"),
        ("Subject: hi", "<>", "null envelope sender"),
        ("Subject: hi", "MAILER-DAEMON@mx.example.com", "mailer-daemon or postmaster"),
        ("From: Postmaster <postmaster@example.com>", "a@example.com",
         "mailer-daemon or postmaster"),
        ("Content-Type: multipart/report; report-type=delivery-status; boundary=x",
         "a@example.com", "delivery report"),
    ],
)
def test_machine_written_mail_is_recognized(head: str, mail_from: str, reason: str) -> None:
    message = parse("From: a@example.com\r\n" + head if "From:" not in head else head)
    assert auto_generated_reason(message, mail_from) == reason
    assert is_auto_generated(message, mail_from)


def test_a_person_writing_is_not_automatic() -> None:
    message = parse("From: a@example.com\r\nAuto-Submitted: no\r\nPrecedence: first-class")
    assert not is_auto_generated(message, "a@example.com")


def test_mailing_list_headers_count_only_when_asked() -> None:
    message = parse("From: ap@customer.example\r\nList-Id: <ap.customer.example>")
    assert not is_auto_generated(message, "ap@customer.example")
    assert auto_generated_reason(message, "ap@customer.example", lists=True) == "mailing list"


# ---- Authentication-Results from a trusted relay -------------------------------------------

def ar(value: str) -> str:
    return f"Authentication-Results: {value}\r\n"


FROM = "From: Alice <alice@example.com>\r\n"


def test_no_authentication_results_is_not_authenticated(email_config: EmailConfig) -> None:
    verdict = authenticated_by_relay(parse(FROM), RELAY, email_config, "example.com")
    assert not verdict.ok
    assert "no Authentication-Results" in verdict.reason


def test_results_from_an_untrusted_peer_are_ignored(email_config: EmailConfig) -> None:
    message = parse(ar("invoicebot.local; dmarc=pass header.from=example.com") + FROM)
    verdict = authenticated_by_relay(message, STRANGER, email_config, "example.com")
    assert not verdict.ok
    assert verdict.reason == f"peer {STRANGER} is not a trusted relay"


def test_ipv4_mapped_peer_of_a_dual_stack_listener_is_recognized(
    email_config: EmailConfig,
) -> None:
    message = parse(ar("invoicebot.local; dmarc=pass header.from=example.com") + FROM)
    assert authenticated_by_relay(message, "::ffff:127.0.0.1", email_config, "example.com").ok


def test_results_from_another_authserv_id_are_ignored(email_config: EmailConfig) -> None:
    message = parse(ar("mx.evil.example; dmarc=pass header.from=example.com") + FROM)
    assert not authenticated_by_relay(message, RELAY, email_config, "example.com").ok


def test_dmarc_pass_for_the_from_domain_authenticates(email_config: EmailConfig) -> None:
    message = parse(ar("invoicebot.local; dmarc=pass (p=reject) header.from=Example.com") + FROM)
    verdict = authenticated_by_relay(message, RELAY, email_config, "example.com")
    assert verdict.ok and verdict.reason == "dmarc=pass"


def test_dmarc_fail_does_not_authenticate(email_config: EmailConfig) -> None:
    message = parse(ar("invoicebot.local; dmarc=fail header.from=example.com") + FROM)
    verdict = authenticated_by_relay(message, RELAY, email_config, "example.com")
    assert not verdict.ok
    assert "dmarc=fail" in verdict.reason


def test_dmarc_pass_for_another_domain_does_not_count(email_config: EmailConfig) -> None:
    message = parse(ar("invoicebot.local; dmarc=pass header.from=evil.example") + FROM)
    assert not authenticated_by_relay(message, RELAY, email_config, "example.com").ok


@pytest.mark.parametrize(
    ("result", "from_domain", "ok"),
    [
        ("dkim=pass header.d=example.com", "example.com", True),
        ("dkim=pass header.d=example.com", "billing.example.com", True),  # relaxed
        ("dkim=pass header.d=billing.example.com", "example.com", True),  # same org domain
        ("dkim=pass header.i=@example.com", "example.com", False),  # i= never counts
        ("dkim=pass header.d=mailer.example.net", "example.com", False),  # misaligned
        ("dkim=pass header.d=ample.com", "example.com", False),  # suffix is not a subdomain
        ("dkim=fail header.d=example.com", "example.com", False),
    ],
)
def test_dkim_pass_counts_only_when_aligned(
    email_config: EmailConfig, result: str, from_domain: str, ok: bool
) -> None:
    message = parse(ar(f"invoicebot.local; spf=none; {result}") + FROM)
    assert authenticated_by_relay(message, RELAY, email_config, from_domain).ok is ok


def test_only_the_topmost_result_counts_and_only_if_ours(email_config: EmailConfig) -> None:
    # Our relay adds its header on top: a pass of ours below another header was written
    # before our relay saw the mail, i.e. by the sender.
    ours_below = parse(
        ar("mx.other.example; dmarc=fail header.from=example.com")
        + ar("invoicebot.local; dmarc=pass header.from=example.com") + FROM
    )
    verdict = authenticated_by_relay(ours_below, RELAY, email_config, "example.com")
    assert not verdict.ok
    assert verdict.reason == "no Authentication-Results from invoicebot.local on top"
    ours_on_top = parse(
        ar("invoicebot.local; dmarc=pass header.from=example.com")
        + ar("mx.other.example; dmarc=fail header.from=example.com") + FROM
    )
    assert authenticated_by_relay(ours_on_top, RELAY, email_config, "example.com").ok


def test_two_results_with_our_id_are_refused_whichever_says_pass(
    email_config: EmailConfig,
) -> None:
    forged_below = parse(
        ar("invoicebot.local; dmarc=fail header.from=example.com")
        + ar("invoicebot.local; dmarc=pass header.from=example.com") + FROM
    )
    verdict = authenticated_by_relay(forged_below, RELAY, email_config, "example.com")
    assert (verdict.ok, verdict.final) == (False, True)
    assert verdict.reason == "several Authentication-Results from invoicebot.local"


def test_unparsable_result_of_our_relay_hides_nothing_below(email_config: EmailConfig) -> None:
    message = parse(
        ar("invoicebot.local; dmarc=pass header.from=example.com (((")
        + ar("invoicebot.local; dmarc=pass header.from=example.com") + FROM
    )
    verdict = authenticated_by_relay(message, RELAY, email_config, "example.com")
    assert not verdict.ok


def test_folded_result_header_is_read(email_config: EmailConfig) -> None:
    message = parse(ar("invoicebot.local;\r\n\tdkim=pass\r\n header.d=example.com") + FROM)
    assert authenticated_by_relay(message, RELAY, email_config, "example.com").ok


def test_alignment_rule() -> None:
    assert aligned("example.com", "EXAMPLE.com.")
    assert aligned("a.b.example.com", "example.com")
    assert aligned("example.com", "a.b.example.com")  # relaxed: one organizational domain
    assert not aligned("example.com", "")
    assert not aligned("badexample.com", "example.com")


# ---- DKIM verified by us ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def dkim_key() -> tuple[bytes, bytes]:
    return make_dkim_key()


def make_dkim_key() -> tuple[bytes, bytes]:
    """(private key PEM, DNS TXT record) for a selector of ours."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def signed(private: bytes, domain: bytes, from_addr: str = "alice@example.com",
           **kwargs: Any) -> bytes:
    message = (
        f"From: Alice <{from_addr}>\r\nTo: invoices@localhost\r\n"
        "Subject: invoices\r\nMessage-ID: <1@example.com>\r\n\r\ninvoices March\r\n"
    ).encode()
    signature = dkim.sign(message, b"sel", domain, private,
                          include_headers=[b"from", b"to", b"subject"], **kwargs)
    return bytes(signature) + message


def dns(record: bytes) -> Any:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        known = {b"sel._domainkey.example.com.", b"sel._domainkey.mailer.example.net."}
        return record if name in known else None

    return lookup


def test_dkim_signature_of_the_from_domain_verifies(dkim_key: tuple[bytes, bytes]) -> None:
    private, record = dkim_key
    assert verify_dkim(signed(private, b"example.com"), "example.com", dnsfunc=dns(record))


def test_dkim_signature_of_a_parent_domain_aligns(dkim_key: tuple[bytes, bytes]) -> None:
    private, record = dkim_key
    raw = signed(private, b"example.com", from_addr="ap@billing.example.com")
    assert verify_dkim(raw, "billing.example.com", dnsfunc=dns(record))


def test_dkim_signature_of_another_domain_does_not_align(dkim_key: tuple[bytes, bytes]) -> None:
    private, record = dkim_key
    raw = signed(private, b"mailer.example.net")
    assert dkim.verify(raw, dnsfunc=dns(record))  # valid, just not for example.com
    assert not verify_dkim(raw, "example.com", dnsfunc=dns(record))


def test_tampered_body_fails_dkim(dkim_key: tuple[bytes, bytes]) -> None:
    private, record = dkim_key
    raw = signed(private, b"example.com").replace(b"March", b"April")
    assert not verify_dkim(raw, "example.com", dnsfunc=dns(record))


def test_dkim_with_body_length_limit_is_not_trusted(dkim_key: tuple[bytes, bytes]) -> None:
    private, record = dkim_key
    raw = signed(private, b"example.com", length=True) + b"all invoices as zip\r\n"
    assert dkim.verify(raw, dnsfunc=dns(record))  # appended text still "verifies"
    assert not verify_dkim(raw, "example.com", dnsfunc=dns(record))


def test_unsigned_or_unknown_key_fails_dkim(dkim_key: tuple[bytes, bytes]) -> None:
    private, record = dkim_key
    assert not verify_dkim(b"From: a@example.com\r\n\r\nhi\r\n", "example.com", dns(record))
    raw = signed(private, b"example.com")
    assert not verify_dkim(raw, "example.com", dnsfunc=lambda name, timeout=5: None)


def test_any_aligned_signature_among_several_counts(dkim_key: tuple[bytes, bytes]) -> None:
    private, record = dkim_key
    ours = signed(private, b"example.com")
    mailer_signature = signed(private, b"mailer.example.net").partition(b"From:")[0]
    raw = mailer_signature + ours  # the mailer's signature on top, the From domain's below
    assert verify_dkim(raw, "example.com", dnsfunc=dns(record))


def test_malformed_signature_is_no_signature(dkim_key: tuple[bytes, bytes]) -> None:
    _, record = dkim_key
    raw = b"DKIM-Signature: v=1; garbage\r\nFrom: a@example.com\r\n\r\nhi\r\n"
    assert not verify_dkim(raw, "example.com", dnsfunc=dns(record))
