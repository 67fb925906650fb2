"""The web pages in their reader's language, over HTTP on the running service: the account
page of a contact whose locale is German, the refusal page of that contact's download
link, the unsubscribe pages; a page for nobody in particular stays English."""

from __future__ import annotations

import re

import pytest

from notifier.unsubscribe import unsubscribe_signer, unsubscribe_url
from tests.account_page import browser, local, open_session
from tests.alerting import Alerting, text_of
from tests.harness import PUBLIC_URL, request_mail
from tests.test_disputes_e2e import send
from vault.models import Contact
from vault.pages import browser_language

ANNA = "ap@acme.example"  # tests/data/e2e: of ACME (de_DE); the tests give her locale "de"
CLERK = "ap@globex.example"  # en_US
# Any language's reply: its account link and its download links, by their paths.
ACCOUNT_LINK = re.compile(r"(https?://\S+/a/[\w.-]+)")
DOWNLOAD_LINK = re.compile(r"(https?://\S+/d/[\w.-]+)")


async def reply_links(alerting: Alerting, sender: str, pattern: re.Pattern[str],
                      text: str = "unpaid") -> list[str]:
    before = len(alerting.mails_to(sender))
    await send(alerting, request_mail(sender, text))
    await alerting.settled()
    found = pattern.findall(text_of(alerting.mails_to(sender)[before]))
    assert found, text_of(alerting.mails_to(sender)[before])
    return list(found)


async def german_contact() -> Contact:
    await Contact.filter(email=ANNA).update(locale="de")
    return await Contact.get(email=ANNA)


async def test_the_account_page_speaks_german_to_a_german_contact(alerting: Alerting) -> None:
    await german_contact()
    await alerting.invoices(("ACME", "INV-A-1", -3, 7, "100.00"))
    (link,) = await reply_links(alerting, ANNA, ACCOUNT_LINK)
    async with browser(alerting) as client:
        opening = await client.get(local(link))
        assert '<html lang="de">' in opening.text and "Mein Kundenkonto öffnen" in opening.text
        home = await open_session(client, link)
        assert '<html lang="de">' in home.text
        assert "<h1>Saldo</h1>" in home.text and "Guten Tag, Anna Petersen." in home.text
        assert "Abmelden" in home.text and "Sign out" not in home.text
        invoices = await client.get("/account/invoices")
        page = invoices.text
        assert "<h1>Rechnungen</h1>" in page
        for label in ("Filtern", "Fällig", "Weitere Filter", "Rechnungsnummer", "Bestellnummer",
                      "Sortieren nach", "Rechnungen anzeigen", "Filter zurücksetzen",
                      "1 Rechnung gefunden."):
            assert label in page, label
        for english in ("More filters", "Sort by", "Show invoices", "invoice found"):
            assert english not in page, english
        assert 'class="status status-open">offen</span>' in page  # its status, in German
        assert '<option value="overdue">überfällig</option>' in page


async def test_the_account_page_stays_english_for_an_english_contact(
        alerting: Alerting) -> None:
    (link,) = await reply_links(alerting, CLERK, ACCOUNT_LINK)
    async with browser(alerting) as client:
        home = await open_session(client, link)
        assert '<html lang="en">' in home.text and "<h1>Balance</h1>" in home.text


async def test_a_refused_download_link_is_explained_in_its_contacts_language(
        alerting: Alerting) -> None:
    await german_contact()
    await alerting.invoices(("ACME", "INV-A-2", -3, 7, "100.00"))
    links = await reply_links(alerting, ANNA, DOWNLOAD_LINK, "invoice INV-A-2")
    await Contact.filter(email=ANNA).update(active=False)
    refused = await alerting.download(links[0])
    assert refused.status_code == 410
    assert '<html lang="de">' in refused.text
    assert "Dieser Link ist nicht mehr gültig" in refused.text
    assert 'href="mailto:invoices@localhost"' in refused.text
    nobody = await alerting.download(f"{PUBLIC_URL}/d/not-a-token")
    assert '<html lang="en">' in nobody.text and "no longer valid" in nobody.text
    # A link of nobody's: the browser's first language we write, by its q-values.
    browser = {"Accept-Language": "pl-PL, fr-CH;q=0.9, de;q=0.8, en;q=0.5"}
    swiss = await alerting.http("GET", f"{PUBLIC_URL}/d/not-a-token", headers=browser)
    assert '<html lang="fr">' in swiss.text and "Ce lien n'est plus valable" in swiss.text


async def test_a_forged_unsubscribe_link_answers_in_the_browsers_language(
        alerting: Alerting) -> None:
    forged = await alerting.http("GET", f"{PUBLIC_URL}/u/forged-token",
                                 headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert '<html lang="nl">' in forged.text
    assert "Deze afmeldlink is niet geldig" in forged.text
    assert "Schrijf in plaats daarvan" in forged.text and "invoices@localhost" in forged.text
    english = await alerting.http("GET", f"{PUBLIC_URL}/u/forged-token")
    assert "This unsubscribe link is not valid" in english.text


async def test_the_unsubscribe_pages_speak_the_contacts_language(alerting: Alerting) -> None:
    anna = await german_contact()
    url = unsubscribe_url(PUBLIC_URL, unsubscribe_signer(alerting.config.secret_keys), anna.id)
    confirm = await alerting.http("GET", url)
    assert '<html lang="de">' in confirm.text
    assert "Rechnungsbenachrichtigungen beenden" in confirm.text
    done = await alerting.http("POST", url, content=b"List-Unsubscribe=One-Click",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "Sie sind abgemeldet" in done.text
    assert f"{ANNA} erhält keine Rechnungsbenachrichtigungen mehr." in done.text


@pytest.mark.parametrize(("header", "language"), [
    ("", "en"), ("de-DE,de;q=0.9", "de"), ("pl, it;q=0.1", "it"), ("*", "en"),
    ("fr;q=0, es;q=0.2", "es"),  # q=0: "not this one"
    ("nl;q=abc, pt-BR;q=0.3", "pt"),  # an unreadable weight counts as 0
    ("en;q=0.2, de;q=0.8", "de"),  # by weight, not by position
])
def test_a_browser_language_is_its_first_acceptable_one_we_write(header: str,
                                                                 language: str) -> None:
    assert browser_language(header) == language
