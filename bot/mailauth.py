"""Who sent an email: the From mailbox, whether a machine wrote it, and whether it is proven.

Everything here is pure except `verify_dkim`, which looks up keys in DNS (blocking: call it
with asyncio.to_thread). Verdicts carry a short reason for the audit row and the AR
escalation, never message content.

Alignment is relaxed DMARC alignment simplified to "equal, or the From domain is a
subdomain of the signing domain": without a public-suffix list we cannot compute
organizational domains, and this direction never lets a stranger's domain vouch for ours.
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

from vault.config import EmailConfig


@dataclass(frozen=True)
class Refusal:
    """Why no sender could be taken from a message (for the audit row)."""

    reason: str  # no From, several From headers, several mailboxes in From, malformed From


@dataclass(frozen=True)
class AuthVerdict:
    ok: bool
    reason: str  # e.g. "dmarc=pass", "peer 203.0.113.5 is not a trusted relay"


# ---- the From mailbox ------------------------------------------------------------------

# Defects that mean the parser guessed; obsolete syntax and raw UTF-8 are legitimate.
_FATAL_DEFECTS = (errors.InvalidHeaderDefect, errors.HeaderMissingRequiredValue)


def parse_sender(msg: EmailMessage) -> str | Refusal:
    """The single From mailbox as a lower-cased addr-spec, or why there is none.

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
        spec = str(address.addr_spec).encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return Refusal("malformed From")
    return spec.lower()


def domain_of(address: str) -> str:
    """The domain of an address (or of "@domain", as in DKIM's i=), normalized."""
    return _norm(address.rpartition("@")[2])


def _norm(domain: str) -> str:
    return domain.strip().lower().rstrip(".")


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

_COMMENT = re.compile(r"\([^()]*\)")


def authenticated_by_relay(
    msg: Message, peer_ip: str, config: EmailConfig, from_domain: str
) -> AuthVerdict:
    """Trust the relay's Authentication-Results, if the relay is ours and the result is.

    Headers are believed only when the connecting peer is in email.trusted_relays, and then
    only the topmost one carrying our authserv-id: anything below it may have been written
    by the sender (RFC 8601 §5).
    """
    if not _is_trusted(peer_ip, config):
        return AuthVerdict(False, f"peer {peer_ip[:64]} is not a trusted relay")
    value = _topmost_ours(msg, config.authserv_id)
    if value is None:
        return AuthVerdict(False, f"no Authentication-Results from {config.authserv_id}")
    try:
        header = authres.AuthenticationResultsHeader.parse(f"Authentication-Results: {value}")
    except Exception:  # authres raises several exception types on bad input
        return AuthVerdict(False, "unparsable Authentication-Results")
    return _judge(header.results, _norm(from_domain))


def _is_trusted(peer_ip: str, config: EmailConfig) -> bool:
    try:
        ip = ipaddress.ip_address(peer_ip)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # dual-stack listener
        ip = ip.ipv4_mapped
    return any(ip in network for network in config.trusted_relays)


def _topmost_ours(msg: Message, authserv_id: str) -> str | None:
    """The first (topmost) Authentication-Results value whose authserv-id is ours."""
    for name, raw in msg.raw_items():
        if name.lower() != "authentication-results":
            continue
        value = re.sub(r"\r?\n[ \t]+", " ", str(raw)).strip()
        server_id = _COMMENT.sub(" ", value.split(";", 1)[0]).split()
        if server_id and server_id[0].lower() == authserv_id.lower():
            return value
    return None


def _judge(results: list[authres.core.AuthenticationResult], from_domain: str) -> AuthVerdict:
    seen = []
    for result in results:
        method, outcome = str(result.method).lower(), str(result.result).lower()
        props = _properties(result)
        seen.append(f"{method}={outcome}")
        if outcome != "pass":
            continue
        if method == "dmarc" and _norm(props.get("header.from", "")) == from_domain:
            return AuthVerdict(True, "dmarc=pass")
        if method == "dkim" and _dkim_aligned(props, from_domain):
            return AuthVerdict(True, f"dkim=pass d={props.get('header.d', '')[:100]}")
    return AuthVerdict(False, "no aligned pass: " + (", ".join(seen)[:200] or "no results"))


def _properties(result: authres.core.AuthenticationResult) -> dict[str, str]:
    return {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}


def _dkim_aligned(props: dict[str, str], from_domain: str) -> bool:
    signers = [props.get("header.d", ""), domain_of(props.get("header.i", ""))]
    return any(s and aligned(from_domain, s) for s in signers)


def aligned(from_domain: str, signing_domain: str) -> bool:
    """Relaxed alignment, simplified: equal, or From is a subdomain of the signer."""
    f, d = _norm(from_domain), _norm(signing_domain)
    return bool(d) and (f == d or f.endswith("." + d))


# ---- DKIM, verified by us ---------------------------------------------------------------

MAX_SIGNATURES = 5  # each costs a DNS lookup; a message with more is not worth it


def verify_dkim(
    raw: bytes, from_domain: str, dnsfunc: Callable[..., bytes | None] | None = None
) -> bool:
    """True if some DKIM signature verifies and its d= aligns with the From domain.

    Signatures with a body length (l=) are ignored: anyone could append text to the body.
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
        if aligned(from_domain, signer.domain.decode("ascii", "replace")):
            return True
    return False
