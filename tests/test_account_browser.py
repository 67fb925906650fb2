"""The account page in real Chromium (Debian's `chromium`, driven by Playwright with
executable_path: no browser download), against the running service: the link from a
real reply mail, "due next week", a detail, the PDF, a ZIP of the filtered list, a
statement, a dispute and the notification settings, on a phone and a laptop screen.
Screenshots go to $INVOICEBOT_SCREENSHOTS (default var/screenshots); axe-core (bundled in
axe-playwright-python) checks the main pages for serious or critical violations.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.account_page import account_link_by_mail
from tests.alerting import BASE_DAY, Alerting, pdf_text
from tests.harness import PUBLIC_URL
from vault.models import Contact, Dispute, Escalation, Invoice
from vault.vocabulary import InvoiceStatus

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import Page, async_playwright
except ImportError:  # the test extra is not installed
    async_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or async_playwright is None,
    reason="needs Debian's chromium (apt install chromium chromium-driver) and playwright "
           "(pip install -e '.[test]'); `make browser-deps` installs both")

CLERK = "ap@globex.example"
ZONE = "America/New_York"  # GLOBEX's contacts read their dates there
SHOTS = Path(os.environ.get("INVOICEBOT_SCREENSHOTS", "var/screenshots"))
VIEWPORTS = {"phone": (390, 844), "laptop": (1280, 800)}


def _days_to_next_week(alerting: Alerting) -> int:
    """Days from the base day to next week's Wednesday, as the contact counts weeks."""
    today = alerting.clock.today(ZONE)
    wednesday = today - timedelta(days=today.weekday()) + timedelta(days=9)
    return (wednesday - BASE_DAY).days


async def _shot(page: Page, name: str, viewport: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{viewport}-{name}.png"), full_page=True)


async def _no_serious_violations(page: Page) -> None:
    results = await Axe().run(page)
    bad = [v for v in results.response["violations"]
           if v.get("impact") in ("serious", "critical")]
    assert not bad, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in bad]


async def _download(page: Page, click: Any) -> bytes:
    async with page.expect_download() as info:
        await click()
    path = await (await info.value).path()
    return Path(path).read_bytes()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_an_ap_clerk_uses_the_account_page_in_chromium(
        alerting: Alerting, viewport: str) -> None:
    next_week = _days_to_next_week(alerting)
    await alerting.invoices(("GLOBEX", "INV-G-NEXT", -10, next_week, "420.00"),
                            ("GLOBEX", "INV-G-LATE", -40, -5, "99.50"),
                            ("GLOBEX", "INV-G-FAR", -2, 60, "1250.00"))
    await Contact.filter(email=CLERK).update(role="manager")  # statements and aging too
    link = await account_link_by_mail(alerting, CLERK)
    local = link.replace(PUBLIC_URL, f"http://127.0.0.1:{alerting.service.http_port}")
    width, height = VIEWPORTS[viewport]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        context = await browser.new_context(viewport={"width": width, "height": height})
        page = await context.new_page()
        try:
            await _walk_through(page, local, viewport)
        finally:
            await browser.close()
    invoice = await Invoice.get(number="INV-G-NEXT")
    assert invoice.status == InvoiceStatus.DISPUTED
    assert await Dispute.filter(invoice_id=invoice.id, reason="Quantity is wrong").exists()
    assert await Escalation.filter(kind="dispute", summary__contains="INV-G-NEXT").exists()


async def _walk_through(page: Page, link: str, viewport: str) -> None:
    await page.goto(link)
    await _shot(page, "1-link", viewport)
    await page.get_by_role("button", name="Open my account").click()
    await page.wait_for_url("**/account/")
    await _shot(page, "2-balance", viewport)
    await _no_serious_violations(page)

    await page.get_by_role("link", name="Invoices", exact=True).first.click()
    await page.get_by_label("Due", exact=True).select_option("next_week")
    await page.get_by_role("button", name="Show invoices").click()
    rows = page.locator("table.invoices tbody tr")
    assert await rows.count() == 1
    assert "INV-G-NEXT" in await rows.first.inner_text()
    await _shot(page, "3-due-next-week", viewport)
    await _no_serious_violations(page)

    archive = await _download(page, page.get_by_role("button", name="Download it as ZIP")
                              .click)
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert [n for n in names if n.endswith(".pdf")] == ["INV-G-NEXT.pdf"], names

    await page.get_by_role("link", name="INV-G-NEXT").click()
    await _shot(page, "4-detail", viewport)
    await _no_serious_violations(page)
    pdf = await _download(page, page.get_by_role("link", name="Download PDF").click)
    assert pdf.startswith(b"%PDF") and "INV-G-NEXT" in pdf_text(pdf)

    await page.get_by_label("What is wrong").fill("Quantity is wrong")
    await page.get_by_role("button", name="Dispute this invoice").click()
    await page.get_by_text("We recorded your dispute").wait_for()
    await _shot(page, "5-disputed", viewport)

    await page.get_by_role("link", name="Statement").click()
    await page.get_by_label("From").fill((BASE_DAY - timedelta(days=90)).isoformat())
    statement = await _download(page, page.get_by_role("button", name="Download statement")
                                .click)
    assert statement.startswith(b"%PDF") and "INV-G-NEXT" in pdf_text(statement)

    await page.get_by_role("link", name="Notifications").click()
    await page.get_by_label("Weekly digest").check()
    await page.get_by_role("button", name="Save settings").click()
    await page.get_by_text("Your notification settings are saved").wait_for()
    assert await page.get_by_label("Weekly digest").is_checked()
    await _shot(page, "6-preferences", viewport)
    await _no_serious_violations(page)

    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_text("You are signed out").wait_for()
