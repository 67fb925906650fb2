"""The audit trail: every view, download, refusal and link gets a row.

Action names are dotted (vault.document.download, bot.request.answered); `data` holds
details but never a token or a message body. Rows are stamped by the system clock, not
the clock a request is answered on: `invoicebot ask --today` of a past day is still asked
today, and the trail says when things really happened.
"""

from __future__ import annotations

from typing import Any

from vault.clock import SYSTEM
from vault.models import AuditEvent


async def record(
    action: str,
    *,
    account_id: int | None = None,
    contact_id: int | None = None,
    document_id: int | None = None,
    ip: str = "",
    user_agent: str = "",
    **data: Any,
) -> AuditEvent:
    return await AuditEvent.create(
        at=SYSTEM.now(),
        action=action,
        account_id=account_id,
        contact_id=contact_id,
        document_id=document_id,
        ip=ip[:64],
        user_agent=user_agent[:500],
        data=data,
    )
