"""Bounces: delivery status notifications (RFC 3464) about mail we sent, for AR.

A relay that accepted one of our replies, alerts or digests and failed to deliver it later
mails a report back to our receiver. `parse_bounce` reads it (pure, never raises on
hostile input); `record_bounce` ties it to the outbox row by the original Message-ID,
audits it, escalates a failure to AR and, for a permanent failure of an alert or digest,
switches that contact's email route off. Only report fields and headers are read: a
bounce's text and the returned message's body are never stored anywhere but the raw row.

Reports are easy to forge (backscatter spam), so one that names no Message-ID of ours is
audited and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.policy import default as default_policy

from notifier import preferences
from vault import audit
from vault.escalations import escalate
from vault.models import Contact, OutboxMessage
from vault.vocabulary import Channel, EscalationKind, OutboxKind

FAILED, DELAYED = "failed", "delayed"
_ROBOTS = frozenset({"mailer-daemon", "postmaster"})
_STATUS = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_DEPTH = 8  # Gmail nests the human part three deep


@dataclass(frozen=True)
class Recipient:
    """One per-recipient block of a report."""

    final_recipient: str  # lower-case address; "" when the report does not say
    action: str  # failed, delayed, delivered, relayed, expanded ("" if missing)
    status: str  # e.g. "5.1.1" (5: permanent, 4: transient); "" if missing
    diagnostic: str  # the remote server's answer, one line, at most 300 characters


@dataclass(frozen=True)
class Bounce:
    """What a report says about one message of ours."""

    message_id: str  # the original Message-ID without <>, "" if the report lost it
    recipients: tuple[Recipient, ...]
    standard: bool  # multipart/report; report-type=delivery-status


# ---- reading a report ----------------------------------------------------------------

def parse_bounce(message: EmailMessage) -> Bounce | None:
    """The report in `message`, or None if it is not one.

    A multipart/report of type delivery-status is always a Bounce, however broken (the
    caller records that it could not be read). Otherwise only a message from
    MAILER-DAEMON or postmaster that returns our original message is taken as a bounce,
    with one failed recipient and no status: nothing more is guessed from free text.
    """
    standard = (message.get_content_type() == "multipart/report"
                and str(message.get_param("report-type", "")).lower() == "delivery-status")
    parts = list(_parts(message))
    recipients, per_message = _report_fields(parts)
    message_id = _original_id(parts) or _bare_id(per_message.get("x-original-message-id", ""))
    if not recipients and message_id and _from_robot(message):
        recipients = [Recipient("", FAILED, "", "")]
    elif not standard:
        return None
    return Bounce(message_id, tuple(recipients), standard)


def _parts(message: Message, depth: int = 0) -> Iterator[Message]:
    """Every leaf and message/* part, without looking inside returned messages (nor
    deeper than any real report nests: hostile nesting must not exhaust the stack)."""
    payload = message.get_payload()
    if message.get_content_maintype() == "message" or not isinstance(payload, list):
        yield message
        return
    for part in payload if depth < _MAX_DEPTH else []:
        if isinstance(part, Message):
            yield from _parts(part, depth + 1)


def _report_fields(parts: list[Message]) -> tuple[list[Recipient], dict[str, str]]:
    """The per-recipient blocks and the per-message fields of the delivery-status part.

    The stdlib parses message/delivery-status as a list of header blocks (Messages)."""
    recipients: list[Recipient] = []
    per_message: dict[str, str] = {}
    for part in parts:
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            fields = _fields(block)
            if "final-recipient" in fields or "action" in fields:
                recipients.append(_recipient(fields))
            else:
                per_message.update(fields)
    return recipients, per_message


def _fields(block: Message) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in block.items():
        try:
            text = str(value)
        except Exception:  # a header the policy cannot render: skip it, keep the rest
            continue
        found.setdefault(name.lower(), _one_line(text))
    return found


def _recipient(fields: dict[str, str]) -> Recipient:
    address = fields.get("final-recipient", "").rpartition(";")[2].strip().strip("<>")
    status = _STATUS.search(fields.get("status", ""))
    diagnostic = fields.get("diagnostic-code", "")
    if ";" in diagnostic:  # "smtp; 550 5.1.1 ...": the type is noise for AR
        diagnostic = diagnostic.partition(";")[2].strip()
    action = (fields.get("action", "").split() or [""])[0].lower()
    return Recipient(address.lower()[:320], action[:16], status[0] if status else "",
                     diagnostic[:300])


def _original_id(parts: list[Message]) -> str:
    """The Message-ID of the returned message (message/rfc822) or its headers."""
    for part in parts:
        kind = part.get_content_type()
        try:
            if kind == "message/rfc822":
                inner = part.get_payload()
                returned = inner[0] if isinstance(inner, list) and inner else None
                if not isinstance(returned, Message):
                    continue
            elif kind == "text/rfc822-headers":
                returned = HeaderParser(policy=default_policy).parsestr(
                    str(part.get_content()))  # type: ignore[attr-defined]
            else:
                continue
            found = _bare_id(str(returned.get("Message-ID", ""))) if returned else ""
        except Exception:  # an unknown charset or a broken header: no id from this part
            continue
        if found:
            return found
    return ""


def _bare_id(value: str) -> str:
    match = _MESSAGE_ID.search(value)
    return match[1] if match else ""


def _from_robot(message: EmailMessage) -> bool:
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        return any(a.username.lower() in _ROBOTS for a in addresses)
    except Exception:  # a From the parser cannot read is no proof of a mailer daemon
        return False


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


# ---- recording it ------------------------------------------------------------------------

async def record_bounce(
    bounce: Bounce, now: datetime, *, quiet_default: tuple[time, time] | None = None,
    reference: str = "",
) -> str:
    """Audit a report and act on it; returns the inbound outcome:

    bounce             a message of ours failed: escalated to AR; a permanent (5.x.x)
                       failure of an alert or digest also switches the contact's email
                       route off (preferences.disable_route, audited there)
    bounce_delayed     a delay warning (the relay keeps trying): audited, nothing else
    delivery_report    a success report (delivered, relayed, expanded): audited only
    bounce_unknown     a Message-ID we never sent: audited only (forged bounces exist)
    bounce_unreadable  no Message-ID or no recipient fields: audited only

    Idempotent per outbox row and recipient. `quiet_default` is
    notifier.default_quiet_hours, needed to store a contact's settings when a route is
    switched off. `reference` is the report's own inbound key, for the audit trail.
    """
    row = None
    if bounce.message_id:
        row = await OutboxMessage.filter(message_id=bounce.message_id,
                                         channel=Channel.EMAIL).first()
    if row is None or not bounce.recipients:
        outcome = "bounce_unknown" if bounce.message_id and row is None else "bounce_unreadable"
        await audit.record(f"notifier.delivery.{outcome}", message_id=bounce.message_id[:255],
                           outbox_id=row.id if row else None, reference=reference)
        return outcome
    if row.contact_id is not None:
        contact = await Contact.get_or_none(id=row.contact_id)
    else:  # AR's mail, a notice to nobody on file, or a row queued before contact_id
        contact = await Contact.get_or_none(email=row.recipient.lower())
    # A report about some other address is not about this message (or is forged): only
    # the address we sent to, or a report that does not say, counts.
    ours = [r for r in bounce.recipients if r.final_recipient in ("", row.recipient.lower())]
    failed = [r for r in ours if r.action == FAILED]
    for recipient in failed:
        await _failed(row, contact, recipient, now, quiet_default, reference)
    if failed:
        return "bounce"
    delayed = any(r.action == DELAYED for r in bounce.recipients)
    await audit.record(
        "notifier.delivery." + ("bounce_delayed" if delayed else "reported"),
        account_id=contact.account_id if contact else None,
        contact_id=contact.id if contact else None, outbox_id=row.id, kind=row.kind,
        recipients=[[r.final_recipient, r.action, r.status] for r in bounce.recipients],
        reference=reference)
    return "bounce_delayed" if delayed else "delivery_report"


async def _failed(row: OutboxMessage, contact: Contact | None, recipient: Recipient,
                  now: datetime, quiet_default: tuple[time, time] | None, reference: str) -> None:
    address = row.recipient  # ours, never the report's text
    account_id = contact.account_id if contact else None
    contact_id = contact.id if contact else None
    await audit.record(
        "notifier.delivery.bounced", account_id=account_id, contact_id=contact_id,
        outbox_id=row.id, channel=row.channel, kind=row.kind, address=address,
        status=recipient.status, diagnostic=recipient.diagnostic, reference=reference)
    switched = False
    # A 4.x.x "failed" is a relay that gave up retrying (an outage, maybe): AR is told,
    # but the route stays on, as for a row that died of too many attempts.
    if contact and OutboxKind(row.kind).is_alert and recipient.status.startswith("5"):
        reason = f"bounce {recipient.status}: {recipient.diagnostic}"
        switched = await preferences.disable_route(contact.id, Channel.EMAIL, reason,
                                                   quiet_default, now)
    await escalate(EscalationKind.BOUNCE, f"bounce:{row.id}:{address[:200]}", at=now,
                   account_id=account_id, contact_id=contact_id, address=address,
                   summary=_summary(row, address, recipient, switched))


def _summary(row: OutboxMessage, address: str, recipient: Recipient, switched: bool) -> str:
    """e.g. "alert to ap@x.example bounced: 5.1.1 (550 5.1.1 user unknown)"."""
    text = f"{row.kind} to {address} bounced: {recipient.status or 'no status given'}"
    if recipient.diagnostic:
        text += f" ({recipient.diagnostic[:200]})"
    if switched:
        text += "; email alerts switched off for this contact"
    return text
