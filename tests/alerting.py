"""The running service with a frozen clock, for alert and digest tests.

Time is frozen (a FixedClock) and only moves when a test moves it; ticks are called
directly (they are what the scheduler would trigger), and the service's own delivery
worker sends to a real SMTP sink. Dates are relative to tomorrow, so download links made
"in the future" of the test stay valid when checked over HTTP with the real clock.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pypdf import PdfReader
from tortoise.expressions import Q

from bot.commands_cli import pdf_issuer
from bot.service import Service
from tests.fakes import SmtpSink
from tests.harness import DATA, PUBLIC_URL, until
from vault.clock import SYSTEM, FixedClock
from vault.config import Config
from vault.ingest.csv import import_csv
from vault.models import OutboxMessage
from vault.pdf import PdfRenderer

BERLIN = ZoneInfo("Europe/Berlin")  # ACME (tier gold: daily digest by default)
NEW_YORK = ZoneInfo("America/New_York")  # GLOBEX (tier standard: instant by default)
SELLER = ZoneInfo("Europe/London")
BASE_DAY = datetime.now(UTC).date() + timedelta(days=1)
INVOICE_HEADER = ["account_id", "invoice_number", "issue_date", "due_date", "currency",
                  "description", "quantity", "unit_price", "status"]


def at(zone: ZoneInfo, hour: int, minute: int = 0, days: int = 0) -> datetime:
    """A wall-clock time in `zone`, `days` after the base day, as aware UTC."""
    local = datetime.combine(BASE_DAY + timedelta(days=days), time(hour, minute), tzinfo=zone)
    return local.astimezone(UTC)


@dataclass
class Alerting:
    service: Service
    sink: SmtpSink
    config: Config
    clock: FixedClock
    renderer: PdfRenderer
    folder: Path
    _files: int = field(default=0)

    async def invoices(self, *rows: tuple[str, str, int, int, str]) -> None:
        """(account, number, issued days from base, due days from base, amount)."""
        lines = [[acc, number, (BASE_DAY + timedelta(days=issued)).isoformat(),
                  (BASE_DAY + timedelta(days=due)).isoformat(), "USD" if acc == "GLOBEX" else
                  "EUR", "Services", "1", amount, ""]
                 for acc, number, issued, due, amount in rows]
        await self._import("invoices", INVOICE_HEADER, lines)

    async def invoice_status(self, account: str, number: str, status: str) -> None:
        """Re-import an invoice made by invoices() with a file status (void, disputed, "")."""
        row = [account, number, BASE_DAY.isoformat(), (BASE_DAY + timedelta(days=30)).isoformat(),
               "USD" if account == "GLOBEX" else "EUR", "Services", "1", "1000.00", status]
        await self._import("invoices", INVOICE_HEADER, [row])

    async def payment(self, account: str, number: str, amount: str, reference: str) -> None:
        header = ["account_id", "invoice_number", "amount", "paid_on", "reference"]
        paid_on = self.clock.today(SELLER.key).isoformat()
        await self._import("payments", header, [[account, number, amount, paid_on, reference]])

    async def _import(self, kind: str, header: list[str], rows: list[list[str]]) -> None:
        self._files += 1
        path = self.folder / f"{kind}-{self._files}.csv"
        out = io.StringIO()
        csv.writer(out).writerows([header, *rows])
        path.write_text(out.getvalue())
        async with pdf_issuer(self.config, self.renderer) as issue:
            await import_csv(kind, path, on_issued=issue, progress=False,
                             clock=self.clock, timezone=SELLER.key)

    async def tick(self) -> None:
        """The alerts tick, then wait until delivery has settled every due row."""
        await self.service.ticks.alerts()
        await self.settled()

    async def settled(self) -> None:
        """Wait until the service's email delivery has handled every due row (chat rows
        are the test's to dispatch)."""
        async def done() -> bool:
            # One query: two would race the worker (read "failed", then "sending", ...).
            busy = Q(state__in=["pending", "sending"])
            due = Q(state="failed", next_attempt_at__lte=self.clock.now())
            return not await OutboxMessage.filter(Q(busy, due, join_type="OR"),
                                                  channel="email").exists()

        await until(done)

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m.message for m in self.sink.messages if address in m.rcpt_tos]

    async def download(self, url: str) -> httpx.Response:
        assert url.startswith(PUBLIC_URL), url
        real = url.replace(PUBLIC_URL, f"http://127.0.0.1:{self.service.http_port}")
        async with httpx.AsyncClient() as client:
            return await client.get(real)

    async def http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        real = url.replace(PUBLIC_URL, f"http://127.0.0.1:{self.service.http_port}")
        async with httpx.AsyncClient() as client:
            return await client.request(method, real, **kwargs)


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@contextlib.asynccontextmanager
async def running_alerts(
    config: Config, sink: SmtpSink, renderer: PdfRenderer, folder: Path
) -> AsyncIterator[Alerting]:
    """The service at 05:00 UTC on the base day, with the e2e accounts and contacts.

    `config` comes from alert_config(make_config, sink). Each test module wraps this in
    its own fixture (with the `orm` fixture for an empty database).
    """
    clock = FixedClock(at(ZoneInfo("UTC"), 5))
    service = Service(config, clock=clock, pdf_renderer=renderer)
    await service.start()
    try:
        for kind in ("accounts", "contacts"):
            await import_csv(kind, DATA / f"{kind}.csv", progress=False, clock=SYSTEM)
        yield Alerting(service, sink, config, clock, renderer, folder)
    finally:
        await service.stop()


def alert_config(make_config: Any, sink: SmtpSink, **env: str) -> Config:
    settings = {
        "INVOICEBOT_EMAIL_OUTBOUND": f"smtp://127.0.0.1:{sink.port}",
        "INVOICEBOT_HTTP_PUBLIC_URL": PUBLIC_URL,
        "INVOICEBOT_SELLER_TIMEZONE": SELLER.key,
        "INVOICEBOT_NOTIFIER_TICK": "1h",  # only the tests' own ticks run
    }
    config: Config = make_config(**(settings | env))
    return config
