"""Forged headers: one of each header, Authentication-Results trusted as RFC 8601 intends
(the topmost header only, our authserv-id exactly, DMARC's refusals final), alignment by
the Public Suffix List with d= only, and domains as IDNA A-labels without case folding."""

from __future__ import annotations

from typing import Any

import dkim
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mailauth import (
    SINGLE_HEADERS,
    Refusal,
    authenticated_by_relay,
    header_refusal,
    parse_sender,
    verify_dkim,
)
from bot.maildomain import aligned, ascii_lower, organizational_domain, same_domain
from tests.test_mailauth import RELAY, STRANGER, ar, make_dkim_key, parse, signed
from vault.config import Config, EmailConfig

OURS = "invoicebot.local"


@pytest.fixture
def email_config(config: Config) -> EmailConfig:
    return config.email


@pytest.fixture(scope="module")
def dkim_key() -> tuple[bytes, bytes]:
    return make_dkim_key()


def any_selector(record: bytes) -> Any:
    """A DNS lookup that knows the key under every domain's selector "sel"."""
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name.startswith(b"sel._domainkey.") else None

    return lookup


# ---- one of each header ---------------------------------------------------------------------

ONE_OF_EACH = {
    "From": "Alice <alice@example.com>", "Sender": "alice@example.com",
    "Reply-To": "alice@example.com", "To": "invoices@localhost", "Subject": "invoices March",
    "Date": "Mon, 30 Nov 2026 09:00:00 +0000", "Message-ID": "<1@example.com>",
}
SECOND = {**ONE_OF_EACH, "From": "ceo@example.com", "Subject": "dispute INV-2026-0043",
          "Message-ID": "<2@example.com>", "Reply-To": "attacker@evil.example"}


def one_of_each() -> str:
    return "".join(f"{name}: {value}\r\n" for name, value in ONE_OF_EACH.items())


def test_one_of_each_header_with_many_received_lines_is_read(email_config: EmailConfig) -> None:
    head = ("Received: from a\r\nReceived: from b\r\n" + ar(f"{OURS}; dmarc=pass")
            + ar("mx.other.example; dkim=pass") + one_of_each())
    assert header_refusal(parse(head), OURS) is None


@pytest.mark.parametrize("name", SINGLE_HEADERS)
def test_a_header_allowed_once_is_refused_when_it_comes_twice(name: str) -> None:
    above = f"{name.upper()}: {SECOND[name]}\r\n"  # names are case-insensitive
    assert header_refusal(parse(above + one_of_each()), OURS) == f"several {name} headers"
    below = f"{name.lower()}: {SECOND[name]}\r\n"
    assert header_refusal(parse(one_of_each() + below), OURS) == f"several {name} headers"


def test_the_two_subject_dkim_replay_is_refused(dkim_key: tuple[bytes, bytes]) -> None:
    """A signed "invoices" mail replayed with a chosen Subject added above the signed one."""
    private, record = dkim_key
    replay = b"Subject: dispute INV-2026-0043 wrong quantity\r\n" + signed(private, b"example.com")
    # DKIM verifies the last Subject (RFC 6376 §5.4.2), the parser reads the first: the
    # signature alone cannot catch this, which is why the header rule runs first.
    assert verify_dkim(replay, "example.com", dnsfunc=any_selector(record))
    message = parse(replay.decode())
    assert message["Subject"] == "dispute INV-2026-0043 wrong quantity"
    assert header_refusal(message, OURS) == "several Subject headers"


# ---- Authentication-Results: the topmost, ours exactly --------------------------------------

FROM = "From: Alice <alice@example.com>\r\n"
PASS = "dmarc=pass header.from=example.com"


@pytest.mark.parametrize(
    "headers",
    [
        [f"mx.other.example; {PASS}", f"{OURS}; {PASS}"],  # ours below another relay's
        [f"(c) {OURS}; {PASS}"],  # ours behind a comment
        [f"mx.seller.test ({OURS}); {PASS}"],  # ours only inside a comment
        [f"{OURS}.evil.example; {PASS}"],
        [f"x{OURS}; {PASS}"],
        [f'"{OURS}"; {PASS}'],
        [f"{OURS} (unbalanced; {PASS}"],
    ],
    ids=["below-another", "behind-comment", "in-comment", "longer-id", "prefixed-id",
         "quoted-id", "unbalanced-comment"],
)
def test_results_not_plainly_ours_on_top_are_refused(
    email_config: EmailConfig, headers: list[str]
) -> None:
    message = parse("".join(ar(h) for h in headers) + FROM)
    verdict = authenticated_by_relay(message, RELAY, email_config, "example.com")
    assert not verdict.ok, verdict


def test_a_comment_after_our_id_is_fine(email_config: EmailConfig) -> None:
    message = parse(ar(f"{OURS} (Postfix) 1; {PASS}") + FROM)
    assert authenticated_by_relay(message, RELAY, email_config, "example.com").ok


@pytest.mark.parametrize(
    "second",
    [f"{OURS}; {PASS}", f"(c) {OURS}; {PASS}", f"{OURS.upper()}; dkim=pass header.d=x.test"],
    ids=["plain", "behind-comment", "upper-case"],
)
def test_two_headers_with_our_id_are_refused_outright(
    email_config: EmailConfig, second: str
) -> None:
    message = parse(ar(f"{OURS}; {PASS}") + "Received: from x\r\n" + ar(second) + FROM)
    assert header_refusal(message, OURS) == f"several Authentication-Results from {OURS}"
    verdict = authenticated_by_relay(message, RELAY, email_config, "example.com")
    assert (verdict.ok, verdict.final) == (False, True)


@pytest.mark.parametrize(
    "results",
    [
        "dmarc=fail header.from=example.com; dkim=pass header.d=example.com",
        "dkim=pass header.d=example.com; dmarc=fail (p=reject dis=REJECT) header.from=example.com",
        "dkim=pass header.d=example.com; dmarc=temperror action=quarantine",
        "dkim=pass header.d=example.com; dmarc=none policy.applied-disposition=reject",
        "dmarc=pass header.from=example.com; dmarc=fail header.from=example.com",
    ],
    ids=["fail-beside-dkim-pass", "dis-reject", "action-quarantine", "applied-reject",
         "fail-beside-pass"],
)
def test_dmarc_refusal_is_final_even_beside_a_pass(
    email_config: EmailConfig, results: str
) -> None:
    message = parse(ar(f"{OURS}; {results}") + FROM)
    verdict = authenticated_by_relay(message, RELAY, email_config, "example.com")
    assert (verdict.ok, verdict.final) == (False, True)
    assert verdict.reason.startswith("refused by DMARC")


@pytest.mark.parametrize(
    "results",
    ["dmarc=pass (p=reject sp=quarantine dis=none) header.from=example.com",
     "dmarc=pass policy.published-domain-policy=reject policy.applied-disposition=none "
     "header.from=example.com"],
)
def test_a_published_reject_policy_is_no_refusal(email_config: EmailConfig, results: str) -> None:
    message = parse(ar(f"{OURS}; {results}") + FROM)
    assert authenticated_by_relay(message, RELAY, email_config, "example.com").ok


def test_results_from_an_untrusted_peer_are_never_final(email_config: EmailConfig) -> None:
    message = parse(ar(f"{OURS}; dmarc=fail header.from=example.com") + FROM)
    verdict = authenticated_by_relay(message, STRANGER, email_config, "example.com")
    assert (verdict.ok, verdict.final) == (False, False)  # ignored, not believed either way


# ---- alignment by the Public Suffix List, d= only -------------------------------------------

@pytest.mark.parametrize(
    ("from_domain", "d", "i", "ok"),
    [
        ("acme.example", "example", "", False),  # "example" is a public suffix
        ("acme.example", "evil.example", "@acme.example", False),  # i= never counts
        ("acme.co.uk", "co.uk", "", False),
        ("co.uk", "co.uk", "", False),  # a public suffix aligns with nothing
        ("acme.co.uk", "evil.co.uk", "", False),
        ("mail.acme.co.uk", "acme.co.uk", "", True),
        ("acme.co.uk", "mail.acme.co.uk", "", True),
        ("acme.github.io", "github.io", "", False),  # the list's private section counts
        ("acme.github.io", "evil.github.io", "", False),
        ("acme.example", "ACME.Example.", "", True),
    ],
)
def test_relay_dkim_pass_aligns_by_organizational_domain(
    email_config: EmailConfig, from_domain: str, d: str, i: str, ok: bool
) -> None:
    identity = f" header.i={i}" if i else ""
    message = parse(ar(f"{OURS}; dkim=pass header.d={d}{identity}") + FROM)
    assert authenticated_by_relay(message, RELAY, email_config, from_domain).ok is ok
    assert aligned(from_domain, d) is ok


@pytest.mark.parametrize(
    ("signer", "from_addr", "ok"),
    [
        (b"co.uk", "ap@acme.co.uk", False),
        (b"acme.co.uk", "ap@mail.acme.co.uk", True),
        (b"mail.acme.co.uk", "ap@acme.co.uk", True),
        (b"example", "ap@acme.example", False),
        (b"evil.github.io", "ap@acme.github.io", False),
    ],
)
def test_our_own_dkim_check_aligns_the_same_way(
    dkim_key: tuple[bytes, bytes], signer: bytes, from_addr: str, ok: bool
) -> None:
    private, record = dkim_key
    raw = signed(private, signer, from_addr=from_addr)
    assert dkim.verify(raw, dnsfunc=any_selector(record))  # a valid signature either way
    from_domain = from_addr.rpartition("@")[2]
    assert verify_dkim(raw, from_domain, dnsfunc=any_selector(record)) is ok


def test_organizational_domains() -> None:
    assert organizational_domain("a.b.acme.co.uk") == "acme.co.uk"
    assert organizational_domain("co.uk") is None
    assert organizational_domain("münchen.de") == "xn--mnchen-3ya.de"
    assert organizational_domain("bad..example") is None


# ---- addresses: IDNA for the domain, no Unicode case folding ---------------------------------

KELVIN = "\u212a"  # KELVIN SIGN: str.lower() makes it an ASCII "k"


def from_line(address: str) -> Any:
    return parse(f"From: {address}\r\nTo: invoices@localhost")


def test_the_kelvin_sign_is_not_read_as_k() -> None:
    assert KELVIN.lower() == "k"  # the trap
    assert ascii_lower(f"{KELVIN}ATE") == f"{KELVIN}ate"
    sender = parse_sender(from_line(f"{KELVIN}ate@Example.COM"))
    assert sender == f"{KELVIN}ate@example.com" and sender != "kate@example.com"
    assert parse_sender(from_line(f"kate@{KELVIN}orp.example")) == Refusal("malformed From")


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("alice@münchen.de", "alice@xn--mnchen-3ya.de"),
        ("alice@XN--MNCHEN-3YA.DE", "alice@xn--mnchen-3ya.de"),
        ("Jörg@example.de", "jörg@example.de"),  # non-ASCII local part: exact
        ("alice@MÜNCHEN.de", Refusal("malformed From")),  # IDNA 2008: no upper-case Ü
    ],
)
def test_domains_are_compared_as_a_labels(address: str, expected: str | Refusal) -> None:
    assert parse_sender(from_line(address)) == expected


def test_dmarc_header_from_is_compared_as_a_label(email_config: EmailConfig) -> None:
    assert same_domain("münchen.de", "XN--MNCHEN-3YA.de.")
    message = parse(ar(f"{OURS}; dmarc=pass header.from=XN--MNCHEN-3YA.DE") + FROM)
    assert authenticated_by_relay(message, RELAY, email_config, "xn--mnchen-3ya.de").ok


# ---- the rule as a property --------------------------------------------------------------------

# How a header names its authserv-id: "ours" is accepted on top, "claim" is never accepted
# but still counts as a second header in our name, "other" is someone else's.
IDS = {
    OURS: "ours", OURS.upper(): "ours", f"{OURS} (relay) 1": "ours",
    f"(c) {OURS}": "claim", f"(x; y) {OURS}": "claim",
    f"mx.seller.test ({OURS})": "other", "mx.seller.test": "other",
    f"{OURS}.evil.example": "other", f"{OURS}x": "other",
}
# Results for a From at acme.co.uk: "pass" authenticates, "refuse" vetoes, "-" neither.
RESULTS = {
    "dmarc=pass header.from=acme.co.uk": "pass",
    "dmarc=pass (p=reject dis=none) header.from=ACME.co.uk": "pass",
    "dmarc=pass header.from=evil.example": "-",
    "dmarc=none header.from=acme.co.uk": "-",
    "dmarc=fail header.from=acme.co.uk": "refuse",
    "dmarc=fail header.from=evil.example": "refuse",
    "dmarc=temperror action=quarantine header.from=acme.co.uk": "refuse",
    "dkim=pass header.d=acme.co.uk": "pass",
    "dkim=pass header.d=mail.acme.co.uk": "pass",
    "dkim=pass header.d=co.uk": "-",
    "dkim=pass header.d=evil.example header.i=@acme.co.uk": "-",
    "dkim=fail header.d=acme.co.uk": "-",
    "spf=pass smtp.mailfrom=acme.co.uk": "-",
}
PEERS = {"127.0.0.1": True, "::ffff:127.0.0.1": True, "::1": True, "127.0.0.2": False,
         "203.0.113.5": False, "not an ip": False}

headers = st.tuples(st.sampled_from(sorted(IDS)),
                    st.lists(st.sampled_from(sorted(RESULTS)), max_size=4))


def expected(stack: list[tuple[str, list[str]]], peer: str) -> bool:
    """The rule, from the model alone: the topmost is plainly ours, no other header claims
    our id, the peer is a trusted relay, some aligned pass and no DMARC refusal."""
    claims = sum(IDS[authserv_id] != "other" for authserv_id, _ in stack)
    if not PEERS[peer] or not stack or claims > 1 or IDS[stack[0][0]] != "ours":
        return False
    outcomes = {RESULTS[result] for result in stack[0][1]}
    return "pass" in outcomes and "refuse" not in outcomes


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stack=st.lists(headers, max_size=4), peer=st.sampled_from(sorted(PEERS)),
       received_between=st.booleans())
def test_authentication_passes_exactly_when_the_topmost_is_ours_and_says_pass(
    email_config: EmailConfig, stack: list[tuple[str, list[str]]], peer: str,
    received_between: bool,
) -> None:
    between = "Received: from relay\r\n" if received_between else ""
    head = between.join(ar(f"{authserv_id}; {'; '.join(results) or 'none'}")
                        for authserv_id, results in stack)
    message = parse(head + "From: ap@acme.co.uk\r\n")
    verdict = authenticated_by_relay(message, peer, email_config, "acme.co.uk")
    assert verdict.ok is expected(stack, peer), verdict
    claims = sum(IDS[authserv_id] != "other" for authserv_id, _ in stack)
    assert (header_refusal(message, OURS) is not None) is (claims > 1)
