"""The running service for end-to-end tests: real SMTP in, real HTTP out, a real SMTP sink
as the outbound relay. Tests talk to it only over loopback sockets."""

from __future__ import annotations

import asyncio
import io
import re
import smtplib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import TypeVar

import httpx
from pypdf import PdfReader

from bot.commands_cli import pdf_issuer
from bot.service import Service
from tests.fakes import SmtpSink
from vault import events
from vault.clock import FixedClock
from vault.config import Config
from vault.ingest.csv import import_csv
from vault.models import InboundMessage
from vault.pdf import PdfRenderer

T = TypeVar("T")
DATA = Path(__file__).parent / "data" / "e2e"
TODAY = date(2026, 11, 21)
PUBLIC_URL = "http://links.invoicebot.test"
DOWNLOAD_LINK = re.compile(re.escape(PUBLIC_URL) + r"/d/[A-Za-z0-9._-]+")
AUTHSERV = "invoicebot.local"


def fixed_clock() -> FixedClock:
    """Midday UTC on TODAY: the e2e data's statuses and "March" are read on that day."""
    return FixedClock.on(TODAY)


async def load_e2e_data(config: Config, renderer: PdfRenderer) -> None:
    """The small e2e vault, through the real import path and real PDF rendering.

    Loaded as history (events recorded, nobody alerted, as `import --no-alerts`): a test
    about replies must not race the alerts tick for the sink's mail."""
    async with pdf_issuer(config, renderer) as issue:
        with events.silenced():
            for kind in ("accounts", "contacts", "invoices", "payments"):
                await import_csv(kind, DATA / f"{kind}.csv", on_issued=issue, progress=False,
                                 clock=FixedClock.on(TODAY))


def request_mail(
    sender: str, text: str, *, auth: str | None = "dmarc=pass", extra: dict[str, str] | None = None,
    body: str | None = None,
) -> EmailMessage:
    """A request as a relay would hand it over; auth=None leaves the header out."""
    msg = EmailMessage()
    domain = sender.rpartition("@")[2]
    if auth is not None:
        msg["Authentication-Results"] = f"{AUTHSERV}; {auth} header.from={domain}"
    msg["From"] = sender
    msg["To"] = "invoices@localhost"
    msg["Subject"] = text
    msg["Message-ID"] = make_msgid(domain=domain)
    for name, value in (extra or {}).items():
        msg[name] = value
    msg.set_content(body if body is not None else "Thanks,\nAnna\n")
    return msg


# The test's SMTP clients get threads of their own. On the loop's default executor they
# would compete with the service under test, which does blocking work there while it holds
# an SMTP session (checking a DATA's size limits): six concurrent sends on a two-core machine
# took all six default threads, and every session then waited for a thread until smtplib's
# timeout. Real senders are other machines; they never share the service's threads.
SMTP_CLIENTS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="test-smtp-client")


@dataclass
class Running:
    service: Service
    sink: SmtpSink
    config: Config

    async def send(self, msg: EmailMessage | bytes, source: str = "127.0.0.1") -> None:
        """Deliver over SMTP from a loopback source address; raises on a refusal."""
        port = self.service.smtp_port
        raw = msg if isinstance(msg, bytes) else msg.as_bytes()
        # smtplib sends bytes as they are; SMTP lines end in CRLF (aiosmtpd reads by CRLF).
        raw = re.sub(rb"(?<!\r)\n", b"\r\n", raw)

        def deliver() -> None:
            with smtplib.SMTP("127.0.0.1", port, source_address=(source, 0), timeout=10) as smtp:
                smtp.sendmail("bounce@sender.example", ["invoices@localhost"], raw)

        await asyncio.get_running_loop().run_in_executor(SMTP_CLIENTS, deliver)

    async def processed(self, msg: EmailMessage) -> InboundMessage:
        """Wait (bounded) until the service has processed this message."""
        key = str(msg["Message-ID"]).strip("<>")
        return await until(lambda: InboundMessage.get_or_none(message_key=key, state="processed"))

    async def download(self, url: str) -> httpx.Response:
        assert url.startswith(PUBLIC_URL), url
        real = url.replace(PUBLIC_URL, f"http://127.0.0.1:{self.service.http_port}")
        async with httpx.AsyncClient() as client:
            return await client.get(real, headers={"User-Agent": "e2e-test/1.0"})

    async def pdf_text_of_first_reply(self) -> str:
        """The first reply at the sink: its first download link fetched over HTTP (200
        asserted) and the first page of the PDF read as text."""
        await self.sink.wait_for(1)
        body = self.sink.messages[0].message.get_body(preferencelist=("plain",))
        assert body is not None
        url = DOWNLOAD_LINK.findall(body.get_content())[0]  # type: ignore[attr-defined]
        response = await self.download(url)
        assert response.status_code == 200
        return str(PdfReader(io.BytesIO(response.content)).pages[0].extract_text())


async def until(probe: Callable[[], Awaitable[T | None]], timeout: float = 10.0) -> T:
    """Poll a condition with a deadline: fails loudly instead of hiding a race."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)
