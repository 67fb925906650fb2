"""TLS and proxies: STARTTLS on our listener (and required), the outbound relay verified,
X-Forwarded-For believed only from a trusted proxy, HSTS when links are https."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.service import Service
from notifier.delivery import DeliveryError, RelayAccess, SmtpSender
from tests.fakes import SmtpSink
from tests.harness import PUBLIC_URL, Running, fixed_clock, load_e2e_data, request_mail
from tests.test_email_e2e import LINK, text_of
from tests.tls_ca import Authority, make_ca
from vault.models import AuditEvent
from vault.pdf import PdfRenderer


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
async def tls_service(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str, ca: Authority,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Running]:
    extra = getattr(request, "param", {})
    config = make_config(**{
        "INVOICEBOT_EMAIL_OUTBOUND": f"smtp://127.0.0.1:{sink.port}",
        "INVOICEBOT_HTTP_PUBLIC_URL": PUBLIC_URL,
        "INVOICEBOT_EMAIL_TRUSTED_RELAYS": "127.0.0.1/32",
        "INVOICEBOT_EMAIL_TLS_CERT": str(ca.cert_file),
        "INVOICEBOT_EMAIL_TLS_KEY": str(ca.key_file),
    } | extra)
    service = Service(config, clock=fixed_clock())
    await service.start()
    await load_e2e_data(config, renderer)
    yield Running(service, sink, config)
    await service.stop()


def smtp_session(port: int) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", port, timeout=10)


async def test_starttls_to_our_listener_with_a_test_ca(tls_service: Running, ca: Authority) -> None:
    msg = request_mail("ap@acme.example", "invoice INV-2026-0301")

    def deliver() -> str:
        with smtp_session(tls_service.service.smtp_port) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls")
            smtp.starttls(context=ca.client_context())  # verified against our test CA
            cipher = smtp.sock.cipher()[1]  # type: ignore[union-attr]
            smtp.send_message(msg, "bounce@acme.example", ["invoices@localhost"])
            return str(cipher)

    assert (await asyncio.to_thread(deliver)).startswith("TLSv1.")
    await tls_service.sink.wait_for(1)
    assert "INV-2026-0301" in text_of(tls_service.sink.messages[-1].message)


@pytest.mark.parametrize("tls_service", [{"INVOICEBOT_EMAIL_REQUIRE_TLS": "true"}],
                         indirect=True)
async def test_a_listener_that_requires_tls_refuses_plain_mail(tls_service: Running) -> None:
    def plain_mail_from() -> tuple[int, bytes]:
        with smtp_session(tls_service.service.smtp_port) as smtp:
            smtp.ehlo()
            return smtp.mail("ap@acme.example")

    code, text = await asyncio.to_thread(plain_mail_from)
    assert code == 530
    assert b"STARTTLS" in text


async def test_outbound_tls_is_verified_against_the_configured_ca(
    ca: Authority, tmp_path: Path
) -> None:
    other = make_ca(tmp_path / "other", name="someone else's CA")
    mail = (b"From: invoices@localhost\r\nTo: ap@acme.example\r\nSubject: hi\r\n"
            b"Message-ID: <tls-1@localhost>\r\n\r\nhello\r\n")
    sink = SmtpSink(tls=ca.server_context())
    await sink.start()
    try:
        good = SmtpSender("127.0.0.1", sink.port, relay=RelayAccess(ca.ca_file, True))
        await asyncio.wait_for(good.send("ap@acme.example", mail), 30)
        assert len(sink.messages) == 1
        for relay in (RelayAccess(other.ca_file, True), RelayAccess()):  # wrong CA; system's
            with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
                sender = SmtpSender("127.0.0.1", sink.port, relay=relay)
                await asyncio.wait_for(sender.send("ap@acme.example", mail), 30)
        assert len(sink.messages) == 1  # nothing went over an unverified connection
    finally:
        await asyncio.wait_for(sink.stop(), 10)


async def download_ip(running: Running, forwarded_for: str) -> str | None:
    await running.send(request_mail("ap@acme.example", "invoice INV-2026-0301"))
    await running.sink.wait_for(1)
    url = LINK.findall(text_of(running.sink.messages[-1].message))[0]
    real = url.replace(PUBLIC_URL, f"http://127.0.0.1:{running.service.http_port}")
    async with httpx.AsyncClient() as client:
        answer = await client.get(real, headers={"X-Forwarded-For": forwarded_for})
    assert answer.status_code == 200
    event = await AuditEvent.filter(action="vault.document.download").order_by("-id").first()
    assert event is not None
    return event.ip


async def test_x_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(
    tls_service: Running,
) -> None:
    assert await download_ip(tls_service, "203.0.113.9") == "127.0.0.1"


@pytest.mark.parametrize("tls_service", [{"INVOICEBOT_HTTP_TRUSTED_PROXIES": "127.0.0.1/32"}],
                         indirect=True)
async def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(
    tls_service: Running,
) -> None:
    assert await download_ip(tls_service, "203.0.113.9") == "203.0.113.9"


@pytest.mark.parametrize(
    "tls_service", [{"INVOICEBOT_HTTP_PUBLIC_URL": "https://links.invoicebot.test"}],
    indirect=True)
async def test_https_links_make_every_answer_carry_hsts(tls_service: Running) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{tls_service.service.http_port}/healthz")
    assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"

