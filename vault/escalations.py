"""Escalations: what the bot hands to AR, all written through `escalate`.

Every writer (refused requests, bounces, dead deliveries, disputes, requests for a person,
locked chat linking, messages that could not be processed) goes through here, so each
cause is one row (source_key), and no summary carries a link token or a chat-linking code
into AR's mail, or runs longer than SUMMARY_LIMIT.
"""

from __future__ import annotations

import re
from datetime import datetime

from vault import links
from vault.models import Escalation
from vault.vocabulary import EscalationKind

SUMMARY_LIMIT = 2000
ADDRESS_LIMIT = 320  # the column's length
# A chat-linking code as a contact types it: 8 digits, maybe split 4+4 ("1234 5678"), on
# its own (not part of a longer number, an amount, a date or a Message-ID). Codes from
# before 0007 had 6 digits (3+3); they are still recognised.
_LINK_CODE = re.compile(
    r"(?<![\w.,@-])(?:\d{4}[ -]?\d{4}|\d{3}[ -]?\d{3})(?![\w@-]|[.,]\d)")
CODE_REDACTED = "<code>"


def redact(summary: str) -> str:
    """The summary without link tokens (/d/<redacted>) or codes (<code>), capped."""
    return _LINK_CODE.sub(CODE_REDACTED, links.redact_path(summary))[:SUMMARY_LIMIT]


async def escalate(
    kind: EscalationKind, source_key: str, *, at: datetime, account_id: int | None = None,
    contact_id: int | None = None, address: str = "", summary: str = "",
) -> Escalation:
    """The escalation for this cause, created once: a second call with the same
    source_key returns the first row and changes nothing."""
    escalation, _ = await Escalation.get_or_create(
        source_key=source_key,
        defaults={"at": at, "kind": EscalationKind(kind), "account_id": account_id,
                  "contact_id": contact_id, "address": address[:ADDRESS_LIMIT],
                  "summary": redact(summary)},
    )
    return escalation
