"""The audit trail: every view, download, refusal and link gets a row.

Action names are dotted (vault.document.download, bot.request.answered); `data` holds
details but never a token or a message body. Rows are stamped by the system clock, not
the clock a request is answered on: `invoicebot ask --today` of a past day is still asked
today, and the trail says when things really happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vault.clock import SYSTEM, Clock
from vault.models import AuditEvent


def now() -> datetime:
    """The audit trail's clock (the system's): windows over audit rows are measured on
    it (vault.access_watch), whatever clock the request is answered on."""
    return SYSTEM.now()


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
    row = event(action, account_id=account_id, contact_id=contact_id,
                document_id=document_id, ip=ip, user_agent=user_agent, **data)
    await row.save(force_create=True)
    return row


def event(
    action: str,
    *,
    account_id: int | None = None,
    contact_id: int | None = None,
    document_id: int | None = None,
    ip: str = "",
    user_agent: str = "",
    **data: Any,
) -> AuditEvent:
    """An audit row, not yet saved: record() saves one, record_many() several at once."""
    return AuditEvent(
        at=now(),
        action=action,
        account_id=account_id,
        contact_id=contact_id,
        document_id=document_id,
        ip=_storable(ip[:64]),
        user_agent=_storable(user_agent[:500]),
        data={key: _storable(value) for key, value in data.items()},
    )


def _storable(value: Any) -> Any:
    """A NUL (a crafted URL's %00, say) written as the four characters \\x00: PostgreSQL
    keeps no NUL in text or JSON, and the trail must still say what was asked for."""
    return value.replace("\x00", "\\x00") if isinstance(value, str) else value


async def record_many(rows: list[AuditEvent]) -> None:
    """Save these rows in one statement (a reply's grants: one row each, one insert)."""
    if rows:
        await AuditEvent.bulk_create(rows)


@dataclass
class _Sample:
    count: int = 1
    row_id: int | None = None
    closed: bool = False  # its minute is over: the row is written with its final count


@dataclass
class SampledAudit:
    """One audit row per IP per minute for anonymous traffic, with a `count` of the hits
    it stands for, so a client hammering a URL cannot fill the disk with audit rows.

    The first hit of a minute is written at once (with its details: reason, grant,
    contact); later hits from that IP in the same minute only count, and the row's count
    is brought up to date when the minute is over (at the next hit after it, or flush()).
    At most `max_ips` IPs are told apart per minute; the rest share one row with ip "*".
    """

    action: str
    max_ips: int = 10_000
    clock: Clock = SYSTEM
    _minute: datetime | None = None
    _samples: dict[str, _Sample] = field(default_factory=dict)

    async def record(self, *, ip: str, **fields: Any) -> None:
        minute = self.clock.now().replace(second=0, microsecond=0)
        if minute != self._minute:
            await self.flush()
            self._minute = minute
        if ip not in self._samples and len(self._samples) >= self.max_ips:
            ip, fields = "*", {}
        if (sample := self._samples.get(ip)) is not None:
            sample.count += 1
            return
        # Taken before the write, so hits that arrive during it only count.
        self._samples[ip] = sample = _Sample()
        row = await record(self.action, ip=ip, count=1, **fields)
        sample.row_id = row.id
        if sample.closed:  # its minute ended while the row was being written
            await self._write_count(sample)

    async def flush(self) -> None:
        """Write the counts of the minute so far and start a new one."""
        samples, self._samples = self._samples, {}
        for sample in samples.values():
            sample.closed = True
            if sample.row_id is not None:
                await self._write_count(sample)

    async def _write_count(self, sample: _Sample) -> None:
        if sample.count > 1:
            event = await AuditEvent.get(id=sample.row_id)
            event.data = {**event.data, "count": sample.count}
            await event.save(update_fields=["data"])
