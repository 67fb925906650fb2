"""Who sent an email: the From mailbox, whether a machine wrote it, and whether it is proven.

Everything here is pure except `verify_dkim`, which looks up keys in DNS (blocking: call it
with asyncio.to_thread). Verdicts carry a short reason for the audit row and the AR
escalation, never message content. Domains and alignment (Public Suffix List, IDNA, no
Unicode case folding) live in bot.maildomain.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import errors
from email.headerregistry import AddressHeader
from email.message import EmailMessage, Message

import authres
import dkim

from bot.maildomain import aligned, ascii_lower, normalized_address, same_domain
from vault.config import EmailConfig


@dataclass(frozen=True)
class Refusal:
    """Why no sender could be taken from a message (for the audit row)."""

    reason: str  # no From, several From headers, several mailboxes in From, malformed From


@dataclass(frozen=True)
class AuthVerdict:
    ok: bool
    reason: str  # e.g. "dmarc=pass", "peer 203.0.113.5 is not a trusted relay"
    # Our relay said no (dmarc=fail, a quarantine/reject disposition) or its header is
    # forged or unreadable: no other proof, our own DKIM check included, overrides it.
    final: bool = False


# ---- headers that must appear once -------------------------------------------------------

# RFC 5322 §3.6 allows each of these once. DKIM verifies the last instance of a signed
# header (RFC 6376 §5.4.2) while the stdlib reads the first: with two Subjects, what was
# signed and what we read differ, so such mail is not read at all.
SINGLE_HEADERS = ("From", "Sender", "Reply-To", "To", "Subject", "Date", "Message-ID")


def header_refusal(msg: Message, authserv_id: str) -> str | None:
    """Why this message's headers are refused outright (no reply), or None.

    Also refuses a second Authentication-Results in our relay's name: the relay strips
    incoming ones (RFC 8601 §5), so two mean it slipped or someone forged one.
    """
    for name in SINGLE_HEADERS:
        if len(msg.get_all(name) or []) > 1:
            return f"several {name} headers"
    if sum(_claims_ours(value, authserv_id) for value in _results_values(msg)) > 1:
        return f"several Authentication-Results from {authserv_id[:64]}"
    return None


# ---- the From mailbox ------------------------------------------------------------------

# Defects that mean the parser guessed; obsolete syntax and raw UTF-8 are legitimate.
_FATAL_DEFECTS = (errors.InvalidHeaderDefect, errors.HeaderMissingRequiredValue)


def parse_sender(msg: EmailMessage) -> str | Refusal:
    """The single From mailbox as `local@domain`, or why there is none.

    The local part is ASCII lower-cased and the domain given as IDNA A-labels
    (bot.maildomain): no Unicode case folding, so a Kelvin sign never reads as "k".

    Strict on purpose (CVE-2023-27043): lenient parsers have been tricked into reading a
    different address than the one a mail client shows.
    """
    try:
        headers = msg.get_all("From") or []
        if len(headers) > 1:
            return Refusal("several From headers")
        if not headers:
            return Refusal("no From")
        return _single_mailbox(headers[0])
    except Exception:  # the stdlib parser raises IndexError on e.g. "alice@"; compat32: no
        return Refusal("malformed From")  # .addresses (parse with email.policy.default)


def _single_mailbox(header: AddressHeader) -> str | Refusal:
    if any(isinstance(d, _FATAL_DEFECTS) for d in getattr(header, "defects", ())):
        return Refusal("malformed From")
    addresses = header.addresses
    if len(addresses) > 1:
        return Refusal("several mailboxes in From")
    if len(addresses) != 1 or any(g.display_name is not None for g in header.groups):
        return Refusal("malformed From")  # empty, or group syntax (not allowed in From)
    address = addresses[0]
    if not address.username or not address.domain or address.domain.startswith("["):
        return Refusal("malformed From")
    try:
        # Raw UTF-8 (SMTPUTF8) arrives as surrogate escapes; turn it back into text.
        text = str(address.addr_spec).encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return Refusal("malformed From")
    local, _, domain = text.rpartition("@")
    spec = normalized_address(local, domain)
    return Refusal("malformed From") if spec is None else spec


# ---- machine-written mail ----------------------------------------------------------------

_ROBOT_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def auto_generated_reason(msg: Message, mail_from: str, *, lists: bool = False) -> str | None:
    """Why this looks machine-written (never answer it: mail loops), or None.

    `lists=True` also treats mailing-list traffic as automatic; it is off by default
    because AP teams often write from a shared group address that adds List-Id.
    """
    auto = str(msg.get("Auto-Submitted", "")).split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto[:32]}"
    if str(msg.get("Precedence", "")).strip().lower() in _BULK_PRECEDENCE:
        return "precedence bulk"
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return "autoresponder header"
    if mail_from.strip() in ("", "<>"):
        return "null envelope sender"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    if _robot_local_part(mail_from) or _robot_local_part(str(msg.get("From", ""))):
        return "mailer-daemon or postmaster"
    if lists and (msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None):
        return "mailing list"
    return None


def is_auto_generated(msg: Message, mail_from: str, *, lists: bool = False) -> bool:
    return auto_generated_reason(msg, mail_from, lists=lists) is not None


def _robot_local_part(address: str) -> bool:
    match = re.search(r"([^\s<>\"@,;:]+)@", address)
    return match is not None and match[1].lower() in _ROBOT_LOCAL_PARTS


# ---- Authentication-Results from our own relay -----------------------------------------

# A disposition our relay applied or would apply: a refusal even beside a DKIM pass
# (OpenDMARC's "dis=" comment, DMARCbis's policy properties, Microsoft's "action=").
_REFUSING_DISPOSITION = re.compile(
    r"(?<![\w.-])(?:dis|action|policy\.dmarc|policy\.applied-disposition"
    r"|policy\.evaluated-disposition)\s*=\s*(?:quarantine|reject)(?![\w.-])", re.IGNORECASE)


def authenticated_by_relay(
    msg: Message, peer_ip: str, config: EmailConfig, from_domain: str
) -> AuthVerdict:
    """Trust the relay's Authentication-Results, as RFC 8601 §5 and §7 intend.

    Headers are believed only when the connecting peer is in email.trusted_relays, and
    then only the topmost header, only if its authserv-id is ours exactly (comments are
    not part of it), and only if no other header claims our id: everything below the
    relay's own header may have been written by the sender.
    """
    if not _is_trusted(peer_ip, config):
        return AuthVerdict(False, f"peer {peer_ip[:64]} is not a trusted relay")
    ours = config.authserv_id
    values = _results_values(msg)
    if sum(_claims_ours(value, ours) for value in values) > 1:
        return AuthVerdict(False, f"several Authentication-Results from {ours[:64]}", True)
    if not values or not _is_ours(values[0], ours):
        return AuthVerdict(False, f"no Authentication-Results from {ours[:64]} on top")
    try:
        header = authres.AuthenticationResultsHeader.parse(
            f"Authentication-Results: {values[0]}")
    except Exception:  # authres raises several exception types on bad input
        return AuthVerdict(False, "unparsable Authentication-Results", True)
    return _judge(header.results, values[0], from_domain)


def _is_trusted(peer_ip: str, config: EmailConfig) -> bool:
    try:
        ip = ipaddress.ip_address(peer_ip)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # dual-stack listener
        ip = ip.ipv4_mapped
    return any(ip in network for network in config.trusted_relays)


def _results_values(msg: Message) -> list[str]:
    """Every Authentication-Results value, unfolded, topmost first."""
    return [re.sub(r"\r?\n[ \t]+", " ", str(raw)).strip()
            for name, raw in msg.raw_items() if name.lower() == "authentication-results"]


def _claims_ours(value: str, authserv_id: str) -> bool:
    """The header's authserv-id, comments removed, is ours (ASCII case aside)."""
    segments = _segments(value)
    words = segments[0].split() if segments else []
    return bool(words) and ascii_lower(words[0]) == ascii_lower(authserv_id.strip())


def _is_ours(value: str, authserv_id: str) -> bool:
    """Ours as our relay writes it: the id first, no comment in front to hide behind.

    Relays never put a comment before their id; "(c) invoicebot.local" was written by
    someone who wants a parser to see our id where it should see theirs.
    """
    first = re.match(r"[^\s;()]*", value)
    return (first is not None and ascii_lower(first[0]) == ascii_lower(authserv_id.strip())
            and _claims_ours(value, authserv_id))


def _segments(value: str) -> list[str]:
    """The value split at ';' outside comments and quotes, comments removed (RFC 5322
    CFWS: comments nest and a backslash quotes the next character); [] if unbalanced."""
    segments, current, depth, quoted, escaped = [], [], 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                current.append(char)
        elif char == "\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
            current.append(char)
        elif char == "(":
            depth += 1
            current.append(" ")  # a comment separates like a space
        elif char == ")":
            depth -= 1
            if depth < 0:
                return []
        elif depth:
            continue
        elif char == ";":
            segments.append("".join(current))
            current = []
        else:
            quoted = char == '"'
            current.append(char)
    if depth or quoted:
        return []
    return [*segments, "".join(current)]


def _judge(
    results: list[authres.core.AuthenticationResult], value: str, from_domain: str
) -> AuthVerdict:
    seen = [f"{str(r.method).lower()}={str(r.result).lower()}" for r in results]
    if "dmarc=fail" in seen or _REFUSING_DISPOSITION.search(value):
        return AuthVerdict(False, "refused by DMARC: " + ", ".join(seen)[:200], True)
    for result, outcome in zip(results, seen, strict=True):
        props = _properties(result)
        if outcome == "dmarc=pass" and same_domain(props.get("header.from", ""), from_domain):
            return AuthVerdict(True, "dmarc=pass")
        # d= only: i= is the signer's claim about a user, not what the key vouches for.
        if outcome == "dkim=pass" and aligned(from_domain, props.get("header.d", "")):
            return AuthVerdict(True, f"dkim=pass d={props['header.d'][:100]}")
    return AuthVerdict(False, "no aligned pass: " + (", ".join(seen)[:200] or "no results"))


def _properties(result: authres.core.AuthenticationResult) -> dict[str, str]:
    return {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}


# ---- DKIM, verified by us ---------------------------------------------------------------

MAX_SIGNATURES = 5  # each costs a DNS lookup; a message with more is not worth it


def verify_dkim(
    raw: bytes, from_domain: str, dnsfunc: Callable[..., bytes | None] | None = None
) -> bool:
    """True if some DKIM signature verifies and its d= aligns with the From domain.

    The same alignment as for the relay's results: relaxed, by organizational domain from
    the Public Suffix List, d= only (never i=). Signatures with a body length (l=) are
    ignored: anyone could append text to the body.
    Blocking (DNS): run it in a thread.
    """
    # Hostile input can make dkimpy raise more than DKIMException; any error is "no".
    try:
        signer = dkim.DKIM(raw)
        count = sum(1 for name, _ in signer.headers if name.lower() == b"dkim-signature")
    except Exception:
        return False
    kwargs = {"dnsfunc": dnsfunc} if dnsfunc is not None else {}
    for idx in range(min(count, MAX_SIGNATURES)):
        try:
            if not signer.verify(idx=idx, **kwargs):
                continue
        except Exception:
            continue
        if b"l" in signer.signature_fields:
            continue
        if aligned(from_domain, signer.domain.decode("utf-8", "replace")):
            return True
    return False
