"""The contact's account page over HTTP, on the running service: the link from a real
reply mail, sessions, CSRF, the account scope, deactivation and the security headers."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.account_page import (
    account_link_by_mail,
    browser,
    csrf_of,
    local,
    open_session,
)
from tests.alerting import Alerting, alert_config, pdf_text, running_alerts
from tests.fakes import SmtpSink
from tests.harness import until
from vault.models import (
    AccountSession,
    AlertPreference,
    AuditEvent,
    Contact,
    Dispute,
    Escalation,
    Invoice,
)
from vault.pdf import PdfRenderer
from vault.vocabulary import InvoiceStatus

CLERK = "ap@globex.example"
ANNA = "ap@acme.example"


async def test_head_and_get_neither_start_a_session_nor_use_the_link(
        alerting: Alerting) -> None:
    await alerting.invoices(("GLOBEX", "INV-G-1", -3, 7, "100.00"))
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as scanner:
        assert (await scanner.head(local(link))).status_code == 200
        page = await scanner.get(local(link))
        assert page.status_code == 200 and "Open my account" in page.text
        assert "set-cookie" not in page.headers
    assert await AccountSession.all().count() == 0
    async with browser(alerting) as person:  # the person after the scanner: still works
        home = await open_session(person, link)
    assert home.status_code == 200 and "Balance" in home.text
    assert await AccountSession.all().count() == 1


async def test_a_second_browser_is_offered_a_fresh_link_by_mail(alerting: Alerting) -> None:
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as first:
        await open_session(first, link)
    async with browser(alerting) as second:
        page = await second.get(local(link))
        assert "already used" in page.text
        sent = await second.post(local(link) + "/fresh", data={"csrf": csrf_of(page.text)})
        assert "We sent a fresh link" in sent.text
    mails = await until(lambda: _fresh_mails(alerting))
    assert "/a/" in str(mails[0].get_body(("plain",)).get_content())  # type: ignore[union-attr]


async def _fresh_mails(alerting: Alerting) -> list:  # type: ignore[type-arg]
    await alerting.settled()
    return [m for m in alerting.mails_to(CLERK) if m["Subject"] == "Your account link"]


async def test_cookie_is_httponly_lax_and_pages_carry_the_security_headers(
        alerting: Alerting) -> None:
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as client:
        page = await client.get(local(link))
        opened = await client.post(local(link), data={"csrf": csrf_of(page.text)})
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert "secure" not in cookie  # public_url is http in tests
        home = await client.get("/account/")
    csp = home.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert "unsafe-inline" not in csp
    assert home.headers["referrer-policy"] == "no-referrer"
    assert home.headers["cache-control"] == "no-store"
    assert await AuditEvent.filter(action="vault.account.viewed").exists()


async def test_a_post_without_the_right_csrf_token_is_403_and_changes_nothing(
        alerting: Alerting) -> None:
    await alerting.invoices(("GLOBEX", "INV-G-2", -3, 7, "100.00"))
    invoice = await Invoice.get(number="INV-G-2")
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as client:
        await open_session(client, link)
        url = f"/account/invoices/{invoice.id}/dispute"
        for form in ({"reason": "wrong"}, {"reason": "wrong", "csrf": "forged"}):
            refused = await client.post(url, data=form)
            assert refused.status_code == 403
        prefs = await client.post("/account/preferences", data={"cadence": "weekly"})
        assert prefs.status_code == 403
    assert not await Dispute.exists()
    assert (await Invoice.get(id=invoice.id)).status != InvoiceStatus.DISPUTED
    assert not await AlertPreference.exists()


async def test_the_link_page_needs_its_own_form_token(alerting: Alerting) -> None:
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as client:
        assert (await client.post(local(link), data={"csrf": "x"})).status_code == 403
        assert (await client.post(local(link))).status_code == 403
    assert await AccountSession.all().count() == 0


async def test_another_accounts_invoice_is_the_same_404_as_none(alerting: Alerting) -> None:
    await alerting.invoices(("ACME", "INV-A-1", -3, 7, "100.00"),
                            ("GLOBEX", "INV-G-3", -3, 7, "100.00"))
    theirs = await Invoice.get(number="INV-A-1")
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as client:
        await open_session(client, link)
        csrf = csrf_of((await client.get("/account/")).text)
        answers = []
        for invoice_id in (theirs.id, 999_999):
            for path in ("", "/pdf"):
                answers.append(await client.get(f"/account/invoices/{invoice_id}{path}"))
            answers.append(await client.post(f"/account/invoices/{invoice_id}/dispute",
                                             data={"csrf": csrf, "reason": "x"}))
        listing = await client.get("/account/invoices")
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    assert "INV-G-3" in listing.text and "INV-A-1" not in listing.text
    assert not await Dispute.exists()


async def test_a_deactivated_contacts_session_is_refused_at_once(alerting: Alerting) -> None:
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as client:
        assert (await open_session(client, link)).status_code == 200
        await Contact.filter(email=CLERK).update(active=False)
        refused = await client.get("/account/")
    assert refused.status_code == 401 and "Balance" not in refused.text
    assert (await AccountSession.get()).ended_at is not None


async def test_a_session_idles_out(alerting: Alerting) -> None:
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as client:
        await open_session(client, link)
        alerting.clock.advance(alerting.config.access.session_idle)
        assert (await client.get("/account/")).status_code == 401


async def test_the_page_lists_filters_downloads_disputes_and_saves_preferences(
        alerting: Alerting) -> None:
    await alerting.invoices(("GLOBEX", "INV-G-SOON", -3, 8, "100.00"),
                            ("GLOBEX", "INV-G-LATER", -3, 40, "250.00"))
    link = await account_link_by_mail(alerting, CLERK)
    soon = await Invoice.get(number="INV-G-SOON")
    async with browser(alerting) as client:
        await open_session(client, link)
        due = soon.due_date.isoformat()
        listed = await client.get("/account/invoices", params={"due_from": due, "due_to": due})
        assert "INV-G-SOON" in listed.text and "INV-G-LATER" not in listed.text
        csrf = csrf_of(listed.text)
        pdf = await client.get(f"/account/invoices/{soon.id}/pdf")
        assert pdf.content.startswith(b"%PDF") and "INV-G-SOON" in pdf_text(pdf.content)
        archive = await client.post("/account/invoices/zip", data={
            "csrf": csrf, "which": "all", "due_from": due, "due_to": due})
        names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
        assert any("INV-G-SOON" in n for n in names) and not any("LATER" in n for n in names)
        disputed = await client.post(f"/account/invoices/{soon.id}/dispute",
                                     data={"csrf": csrf, "reason": "wrong quantity"})
        assert "We recorded your dispute" in disputed.text
        saved = await client.post("/account/preferences", data={
            "csrf": csrf, "channel": "email", "cadence": "weekly",
            "event": ["invoice.issued"]})
        assert "saved" in saved.text
    assert (await Invoice.get(id=soon.id)).status == InvoiceStatus.DISPUTED
    assert await Escalation.filter(kind="dispute").exists()
    assert (await AlertPreference.get()).cadence == "weekly"
    assert await AuditEvent.filter(action="vault.document.download").count() >= 2


async def test_an_ap_clerk_sees_no_statement_or_aging_as_in_the_bot(alerting: Alerting) -> None:
    await alerting.invoices(("GLOBEX", "INV-G-4", -40, -5, "100.00"))
    link = await account_link_by_mail(alerting, CLERK)  # GLOBEX's clerk has the role ap
    async with browser(alerting) as client:
        home = await open_session(client, link)
        statement = await client.get("/account/statement")
        posted = await client.post("/account/statement", data={
            "csrf": csrf_of(home.text), "start": "2026-01-01", "end": "2026-02-01"})
    assert "Aging" not in home.text and "/account/statement" not in home.text
    assert statement.status_code == posted.status_code == 404


async def test_a_tampered_or_download_link_opens_no_account(alerting: Alerting) -> None:
    link = await account_link_by_mail(alerting, CLERK)
    token = local(link).removeprefix("/a/")
    async with browser(alerting) as client:
        tampered = await client.get(f"/a/{token[:-2]}xx")
        as_download = await client.get(f"/d/{token}")
    assert tampered.status_code == as_download.status_code == 410
    assert await AccountSession.all().count() == 0


@pytest.fixture
async def limited(make_config: Any, sink: SmtpSink, renderer: PdfRenderer, orm: str,
                  tmp_path: Path) -> AsyncIterator[Alerting]:
    """The running service with a small per-session rate: 5 requests a minute."""
    config = alert_config(make_config, sink, INVOICEBOT_ACCESS_SESSION_RATE="5/min")
    async with running_alerts(config, sink, renderer, tmp_path) as run:
        yield run


async def test_a_session_making_too_many_requests_is_slowed_down(limited: Alerting) -> None:
    link = await account_link_by_mail(limited, CLERK)
    async with browser(limited) as client:
        await open_session(client, link)  # the first request of the session
        statuses = [(await client.get("/account/invoices")).status_code for _ in range(6)]
    assert statuses[:4] == [200] * 4 and statuses[-1] == 429


async def test_a_link_opened_again_in_a_signed_in_browser_goes_straight_in(
        alerting: Alerting) -> None:
    first = await account_link_by_mail(alerting, CLERK)
    second = await account_link_by_mail(alerting, CLERK, "balance")
    async with browser(alerting) as client:
        await open_session(client, first)
        for link in (first, second):
            again = await client.get(local(link))
            assert again.status_code == 303 and again.headers["location"] == "/account/"
    assert await AccountSession.all().count() == 1


async def test_filters_that_cannot_be_read_are_named_not_failed(alerting: Alerting) -> None:
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as client:
        await open_session(client, link)
        page = await client.get("/account/invoices", params={
            "min": "NaN", "max": "lots", "due_from": "2026-13-01", "page": "x", "sort": "evil"})
    assert page.status_code == 200
    assert "not understood" in page.text and "Amount from: NaN" in page.text
    assert "Amount to: lots" in page.text and "Due from: 2026-13-01" in page.text


async def test_a_control_character_in_a_filter_is_dropped_not_a_server_error(
    alerting: Alerting
) -> None:
    """A crafted URL's NUL (which PostgreSQL refuses in text) filters as if it were not
    there: the same list as with no filter at all."""
    await alerting.invoices(("GLOBEX", "INV-G-ONE", -3, 8, "100.00"),
                            ("GLOBEX", "INV-G-TWO", -3, 40, "250.00"))
    link = await account_link_by_mail(alerting, CLERK)
    async with browser(alerting) as client:
        await open_session(client, link)
        plain = await client.get("/account/invoices")
        crafted = await client.get("/account/invoices", params={
            "entity": "\x00", "po": "\x00\x01", "number": "\x00"})
    assert (plain.status_code, crafted.status_code) == (200, 200)
    numbers = re.compile(r"INV-G-[A-Z]+")
    assert numbers.findall(crafted.text) == numbers.findall(plain.text)
    assert {"INV-G-ONE", "INV-G-TWO"} <= set(numbers.findall(plain.text))
