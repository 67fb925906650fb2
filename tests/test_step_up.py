"""Step-up on the account page over HTTP, on the running service: a code mailed to the
address on file before documents leave, the sixth wrong try, a remembered browser, and
download links in replies that go through the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.account_page import account_link_by_mail, browser, csrf_of, local, open_session
from tests.alerting import Alerting, alert_config, running_alerts, text_of
from tests.fakes import SmtpSink
from tests.harness import request_mail, until
from tests.test_disputes_e2e import send
from vault.models import Account, AuditEvent, Invoice, StepUpCode
from vault.pdf import PdfRenderer

CLERK = "ap@globex.example"  # GLOBEX, tier standard
ANNA = "ap@acme.example"  # ACME, tier gold
CODE = re.compile(r"Your code is (\d{6})\.")
PDF_LINK = re.compile(r"(http\S+/d/\S+)")


@pytest.fixture
async def stepped(make_config: Any, sink: SmtpSink, renderer: PdfRenderer, orm: str,
                  tmp_path: Path) -> AsyncIterator[Alerting]:
    """The running service where documents need a code (access.step_up = "downloads")."""
    config = alert_config(make_config, sink, INVOICEBOT_ACCESS_STEP_UP="downloads")
    async with running_alerts(config, sink, renderer, tmp_path) as run:
        yield run


async def mailed_code(alerting: Alerting, address: str, before: int) -> str:
    """The code in the newest code mail to `address` (there were `before` of them)."""
    async def mails() -> list[str]:
        await alerting.settled()
        return [found[1] for m in alerting.mails_to(address)
                if (found := CODE.search(text_of(m)))]
    codes = await until(lambda: _more(mails, before))
    return codes[-1]


async def _more(mails: Any, before: int) -> list[str] | None:
    found: list[str] = await mails()
    return found if len(found) > before else None


async def ask_code(client: httpx.AsyncClient, alerting: Alerting, address: str,
                   back: str) -> str:
    page = await client.get("/account/verify", params={"next": back})
    assert page.status_code == 200 and '<label for="code">' in page.text, page.text
    before = await StepUpCode.all().count()
    sent = await client.post("/account/verify/send",
                             data={"csrf": csrf_of(page.text), "next": back})
    assert sent.status_code == 200 and "We emailed you a code" in sent.text
    assert await StepUpCode.all().count() == before + 1
    return await mailed_code(alerting, address, before)


async def type_code(client: httpx.AsyncClient, code: str, back: str,
                    remember: bool = False) -> httpx.Response:
    page = await client.get("/account/verify", params={"next": back})
    form = {"csrf": csrf_of(page.text), "next": back, "code": code}
    if remember:
        form["remember"] = "yes"
    return await client.post("/account/verify", data=form)


async def test_no_document_leaves_without_the_code(stepped: Alerting) -> None:
    await stepped.invoices(("GLOBEX", "INV-G-SU1", -3, 7, "100.00"))
    invoice = await Invoice.get(number="INV-G-SU1")
    pdf = f"/account/invoices/{invoice.id}/pdf"
    link = await account_link_by_mail(stepped, CLERK)
    async with browser(stepped) as client:
        home = await open_session(client, link)
        assert home.status_code == 200 and "Balance" in home.text  # pages need no code
        refused = await client.get(pdf)
        assert refused.status_code == 303 and not refused.content.startswith(b"%PDF")
        assert refused.headers["location"].startswith("/account/verify?next=")
        zipped = await client.post("/account/invoices/zip",
                                   data={"csrf": csrf_of(home.text), "which": "all"})
        assert zipped.status_code == 303 and zipped.headers["location"].startswith(
            "/account/verify")
        code = await ask_code(client, stepped, CLERK, pdf)
        passed = await type_code(client, code, pdf)
        assert passed.status_code == 303 and passed.headers["location"] == pdf
        got = await client.get(pdf)
    assert got.content.startswith(b"%PDF")
    assert await AuditEvent.filter(action="vault.document.download").count() == 1
    assert await AuditEvent.filter(action="vault.account.step_up_passed").count() == 1


async def test_the_sixth_wrong_code_fails_even_if_right(stepped: Alerting) -> None:
    await stepped.invoices(("GLOBEX", "INV-G-SU2", -3, 7, "100.00"))
    invoice = await Invoice.get(number="INV-G-SU2")
    pdf = f"/account/invoices/{invoice.id}/pdf"
    link = await account_link_by_mail(stepped, CLERK)
    async with browser(stepped) as client:
        await open_session(client, link)
        code = await ask_code(client, stepped, CLERK, pdf)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        tries = [(await type_code(client, wrong, pdf)).status_code for _ in range(5)]
        sixth = await type_code(client, code, pdf)
        still = await client.get(pdf)
    assert tries == [400] * 5
    assert sixth.status_code == 400 and "not valid" in sixth.text
    assert still.status_code == 303 and not still.content.startswith(b"%PDF")
    assert not await AuditEvent.filter(action="vault.document.download").exists()


async def test_a_remembered_browser_skips_the_code_until_the_cookie_expires(
        stepped: Alerting) -> None:
    await stepped.invoices(("GLOBEX", "INV-G-SU3", -3, 7, "100.00"))
    invoice = await Invoice.get(number="INV-G-SU3")
    pdf = f"/account/invoices/{invoice.id}/pdf"
    async with browser(stepped) as client:
        home = await open_session(client, await account_link_by_mail(stepped, CLERK))
        code = await ask_code(client, stepped, CLERK, pdf)
        passed = await type_code(client, code, pdf, remember=True)
        cookie = next(v for k, v in passed.headers.multi_items()
                      if k == "set-cookie" and v.startswith("invoicebot_device=")).lower()
        assert "httponly" in cookie and "secure" not in cookie  # http in tests
        assert f"max-age={30 * 86400}" in cookie
        await client.post("/account/signout", data={"csrf": csrf_of(home.text)})

        # A new session in the same browser: no code asked.
        await open_session(client, await account_link_by_mail(stepped, CLERK, "balance"))
        assert (await client.get(pdf)).content.startswith(b"%PDF")
        await client.post("/account/signout",
                          data={"csrf": csrf_of((await client.get("/account/")).text)})

        # Thirty days on (the service's clock): the browser is no longer remembered.
        stepped.clock.advance(stepped.config.access.step_up.remember_device)
        await open_session(client, await account_link_by_mail(stepped, CLERK, "unpaid"))
        again = await client.get(pdf)
    assert again.status_code == 303 and again.headers["location"].startswith("/account/verify")


async def test_an_accounts_own_setting_and_its_tier_decide_over_the_default(
        make_config: Any, sink: SmtpSink, renderer: PdfRenderer, orm: str,
        tmp_path: Path) -> None:
    config = alert_config(make_config, sink, INVOICEBOT_ACCESS_STEP_UP_TIERS="gold=session")
    async with running_alerts(config, sink, renderer, tmp_path) as run:
        await run.invoices(("GLOBEX", "INV-G-SU4", -3, 7, "100.00"))
        invoice = await Invoice.get(number="INV-G-SU4")
        async with browser(run) as anna:  # ACME is gold: a code before any page
            home = await open_session(anna, await account_link_by_mail(run, ANNA))
            assert home.status_code == 303 and home.headers["location"] == (
                "/account/verify?next=%2Faccount%2F")
            asked = await anna.get(home.headers["location"])
            # ACME's account locale is de_DE and Anna has none: the page is in German.
            assert "<h1>Bestätigen Sie, dass Sie es sind</h1>" in asked.text
            assert (await anna.get("/account/invoices")).status_code == 303
        async with browser(run) as clerk:  # GLOBEX is standard: the default, never
            await open_session(clerk, await account_link_by_mail(run, CLERK))
            assert (await clerk.get(f"/account/invoices/{invoice.id}/pdf")).content.startswith(
                b"%PDF")
        await Account.filter(account_id="GLOBEX").update(step_up="downloads")
        async with browser(run) as clerk:  # the account's own column wins
            await open_session(clerk, await account_link_by_mail(run, CLERK, "balance"))
            assert (await clerk.get(f"/account/invoices/{invoice.id}/pdf")).status_code == 303


async def test_email_replies_for_a_step_up_account_link_pdfs_through_the_page(
        stepped: Alerting) -> None:
    await stepped.invoices(("GLOBEX", "INV-G-SU5", -3, 7, "100.00"),
                           ("ACME", "INV-A-SU5", -3, 7, "100.00"))
    await Account.filter(account_id="ACME").update(step_up="never")
    invoice = await Invoice.get(number="INV-G-SU5")
    await send(stepped, request_mail(CLERK, "invoice INV-G-SU5"))
    await stepped.settled()
    (url,) = PDF_LINK.findall(text_of(stepped.mails_to(CLERK)[-1]).split("Open your")[0])
    async with browser(stepped) as scanner:  # a GET shows a page, never the PDF
        shown = await scanner.get(local(url))
        assert shown.status_code == 200 and not shown.content.startswith(b"%PDF")
        assert "Your documents are on your account page" in shown.text
        assert (await scanner.head(local(url))).status_code == 200
    async with browser(stepped) as client:
        page = await client.get(local(url))
        opened = await client.post(local(url) + "/open", data={"csrf": csrf_of(page.text)})
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/account/invoices/{invoice.id}"
        detail = await client.get(opened.headers["location"])
        assert "INV-G-SU5" in detail.text
        assert (await client.get(f"/account/invoices/{invoice.id}/pdf")).status_code == 303
        again = await client.get(local(url))  # signed in: straight to the invoice
        assert again.status_code == 303
    assert not await AuditEvent.filter(action="vault.document.download").exists()

    await send(stepped, request_mail(ANNA, "invoice INV-A-SU5"))  # ACME: never
    await stepped.settled()
    (direct,) = PDF_LINK.findall(text_of(stepped.mails_to(ANNA)[-1]).split("Open your")[0])
    assert (await stepped.download(direct)).content.startswith(b"%PDF")
