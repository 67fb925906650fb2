"""Access watching over HTTP, on the running service: far more downloads than the
contact's usual, one session from two networks, and repeated wrong codes each make one
AR item and require step-up on the next document, until `invoicebot access clear`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.account_page import account_link_by_mail, browser, csrf_of, open_session
from tests.alerting import Alerting, alert_config, running_alerts
from tests.fakes import SmtpSink
from tests.test_cli import make_cli
from vault import audit
from vault.access_watch import network_of
from vault.models import AccessWatch, AuditEvent, Contact, Escalation, Invoice
from vault.pdf import PdfRenderer
from vault.vocabulary import EscalationKind

CLERK = "ap@globex.example"


@pytest.fixture
async def watched(make_config: Any, sink: SmtpSink, renderer: PdfRenderer, orm: str,
                  tmp_path: Path) -> AsyncIterator[Alerting]:
    """The running service behind a trusted proxy on loopback, step-up never by default,
    and small floors so a test's handful of downloads can be "far more than usual"."""
    config = alert_config(make_config, sink, INVOICEBOT_HTTP_TRUSTED_PROXIES="127.0.0.1/32",
                          INVOICEBOT_ACCESS_WATCH_DOWNLOADS_FLOOR="5",
                          INVOICEBOT_ACCESS_WATCH_REFUSED_CODES="3")
    async with running_alerts(config, sink, renderer, tmp_path) as run:
        yield run


async def items() -> list[Escalation]:
    return await Escalation.filter(kind=EscalationKind.ACCESS_PATTERN)


async def clear(tmp_path: Path, database_url: str) -> str:
    code, out, err = await make_cli(tmp_path, database_url).run(
        "access", "clear", "--contact", CLERK.upper())
    assert (code, err) == (0, ""), err
    return out


async def usual_downloads(per_day: int) -> None:
    """The contact's history: `per_day` downloads a day over the 28 days before the last
    24 hours, on the audit trail's clock (the system's: audit rows say when things
    really happened)."""
    contact = await Contact.get(email=CLERK)
    day = audit.now() - timedelta(days=1, hours=1)
    await AuditEvent.bulk_create([
        AuditEvent(at=day - timedelta(days=d), action="vault.document.download",
                   account_id=contact.account_id, contact_id=contact.id, ip="127.0.0.1")
        for d in range(28) for _ in range(per_day)])


async def test_ten_times_the_usual_downloads_in_an_hour_is_one_item_and_asks_for_the_code(
        watched: Alerting, tmp_path: Path, database_url: str) -> None:
    await watched.invoices(("GLOBEX", "INV-G-W1", -3, 7, "100.00"))
    pdf = f"/account/invoices/{(await Invoice.get(number='INV-G-W1')).id}/pdf"
    await usual_downloads(per_day=1)
    async with browser(watched) as client:
        await open_session(client, await account_link_by_mail(watched, CLERK))
        for _ in range(9):
            assert (await client.get(pdf)).content.startswith(b"%PDF")
        assert await items() == []
        assert (await client.get(pdf)).content.startswith(b"%PDF")  # the tenth in an hour
        (item,) = await items()
        assert CLERK in item.summary and "10 downloads within 24 hours" in item.summary
        asked = await client.get(pdf)
        assert asked.status_code == 303 and asked.headers["location"].startswith(
            "/account/verify")
        assert (await client.get("/account/invoices")).status_code == 200  # pages still open
        assert len(await items()) == 1

        out = await clear(tmp_path, database_url)
        assert out == f"{CLERK}: access watch cleared; step-up as the account sets it\n"
        assert (await client.get(pdf)).content.startswith(b"%PDF")
    (item,) = await items()
    assert item.resolved
    assert (await AccessWatch.get()).cleared_at is not None


async def test_a_session_used_from_two_networks_is_one_item_and_asks_for_the_code(
        watched: Alerting, tmp_path: Path, database_url: str) -> None:
    await watched.invoices(("GLOBEX", "INV-G-W2", -3, 7, "100.00"))
    pdf = f"/account/invoices/{(await Invoice.get(number='INV-G-W2')).id}/pdf"
    async with browser(watched) as client:
        await open_session(client, await account_link_by_mail(watched, CLERK))  # 127.0.0.1
        assert (await client.get(pdf)).content.startswith(b"%PDF")
        watched.clock.advance(timedelta(minutes=3))
        elsewhere = {"X-Forwarded-For": "203.0.113.7"}  # through the trusted proxy
        assert (await client.get("/account/", headers=elsewhere)).status_code == 200
        assert len(await items()) == 1
        asked = await client.get(pdf, headers=elsewhere)
        assert asked.status_code == 303
        third = {"X-Forwarded-For": "198.51.100.9"}
        assert (await client.get(pdf, headers=third)).status_code == 303
        (item,) = await items()
        assert "127.0.0.0/24" in item.summary and "203.0.113.0/24" in item.summary

        await clear(tmp_path, database_url)
        assert (await client.get(pdf, headers=third)).content.startswith(b"%PDF")
    assert (await AccessWatch.get()).hits == 2


async def test_the_same_network_and_a_move_after_the_window_are_no_item(
        watched: Alerting) -> None:
    async with browser(watched) as client:
        await open_session(client, await account_link_by_mail(watched, CLERK))
        same = {"X-Forwarded-For": "127.0.0.99"}  # the same /24
        assert (await client.get("/account/", headers=same)).status_code == 200
        watched.clock.advance(timedelta(minutes=11))  # past access.watch_networks_within
        moved = {"X-Forwarded-For": "203.0.113.7"}
        assert (await client.get("/account/", headers=moved)).status_code == 200
    assert await items() == []


async def test_repeated_wrong_codes_are_one_item(watched: Alerting) -> None:
    await watched.invoices(("GLOBEX", "INV-G-W3", -3, 7, "100.00"))
    pdf = f"/account/invoices/{(await Invoice.get(number='INV-G-W3')).id}/pdf"
    async with browser(watched) as client:
        home = await open_session(client, await account_link_by_mail(watched, CLERK))
        for _ in range(4):
            wrong = await client.post("/account/verify", data={
                "csrf": csrf_of(home.text), "code": "000000", "next": pdf})
            assert wrong.status_code == 400
        asked = await client.get(pdf)
    assert asked.status_code == 303
    (item,) = await items()
    assert "wrong step-up codes" in item.summary


def test_a_network_is_a_slash_24_or_a_slash_48() -> None:
    assert network_of("203.0.113.7") == network_of("203.0.113.250") == "203.0.113.0/24"
    assert network_of("::ffff:203.0.113.7") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2::1") == network_of("2001:db8:1:ffff::9") == "2001:db8:1::/48"
    assert network_of("") == network_of("not an address") == ""




async def test_a_watch_ends_by_itself_once_its_quiet_period_passes(watched: Alerting) -> None:
    """access.watch_quiet (7 days by default) without another such hit ends the watch."""
    await watched.invoices(("GLOBEX", "INV-G-W4", -3, 7, "100.00"))
    pdf = f"/account/invoices/{(await Invoice.get(number='INV-G-W4')).id}/pdf"
    async with browser(watched) as client:
        await open_session(client, await account_link_by_mail(watched, CLERK))
        watched.clock.advance(timedelta(minutes=3))
        moved = {"X-Forwarded-For": "203.0.113.7"}
        assert (await client.get(pdf, headers=moved)).status_code == 303
    assert len(await items()) == 1

    watched.clock.advance(timedelta(days=6, hours=23))  # quiet, but not for long enough
    async with browser(watched) as client:
        await open_session(client, await account_link_by_mail(watched, CLERK))
        assert (await client.get(pdf)).status_code == 303
    watched.clock.advance(timedelta(hours=2))  # seven days and more since the hit
    async with browser(watched) as client:
        await open_session(client, await account_link_by_mail(watched, CLERK))
        assert (await client.get(pdf)).content.startswith(b"%PDF")
    assert (await AccessWatch.get()).cleared_at is None  # it ended by time, not by AR
