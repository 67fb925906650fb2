"""Answers in the contact's language, end to end over real SMTP: the words from the
language's catalogue, dates and amounts in the contact's locale, and the rule that picks
the language (README "Languages"; vault/answer_language.py)."""

# ruff: noqa: F811  (`running` is tests.test_email_e2e's fixture, imported: tests name it)
from __future__ import annotations

import email
import email.policy
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email.message import EmailMessage

import pytest
from babel.dates import format_date
from babel.numbers import format_currency
from pypdf import PdfReader

from bot.chatguard import ChatUser, Guard
from bot.chatlink import Linker, how_to_link, link_command
from bot.language.detect import written_in
from notifier.ar_digest import Item, sections_of
from notifier.email_send import wire
from tests.harness import DOWNLOAD_LINK as LINK
from tests.harness import Running, request_mail
from tests.test_email_e2e import running  # noqa: F401  (the fixture: the service on the e2e data)
from vault.answer_language import answer_language
from vault.clock import SYSTEM, FixedClock
from vault.config import Config, ConfigError
from vault.i18n import catalogue
from vault.models import Account, Contact, OutboxMessage

ISSUED = date(2026, 3, 4)  # INV-2026-0301 (tests/data/e2e)
TOTAL = Decimal("3017.04")  # its total


@dataclass(frozen=True)
class Speaker:
    """A contact writing in one language, and what only that language's answer says."""

    language: str
    locale: str
    request: str  # the subject: invoices of March
    body: str  # help, and a statement of the first quarter, one per line
    listing: str  # the listing's title as the answer writes it
    row_word: str  # a word of each listed invoice's line
    help_subject: str
    help_example: str  # an example from the registry, in the language
    statement: str  # the statement's title


SPEAKERS = (
    Speaker("en", "en_GB", "invoices March", "help\nstatement Q1",
            "Invoices in March 2026:", "issued", "How to ask for invoices", "unpaid",
            "Statement of account for Q1 2026"),
    Speaker("de", "de_DE", "Rechnungen März", "Hilfe\nKontoauszug Q1",
            "Rechnungen im Zeitraum März 2026:", "ausgestellt", "So fragen Sie nach Rechnungen",
            "offene Rechnungen", "Kontoauszug für Q1 2026"),
    Speaker("fr", "fr_FR", "factures mars", "aide\nrelevé de compte 1er trimestre",
            "Factures sur la période mars 2026 :", "émise le", "Comment demander vos factures",
            "factures impayées", "Relevé de compte pour T1 2026"),
    Speaker("es", "es_ES", "facturas marzo", "ayuda\nextracto de cuenta primer trimestre",
            "Facturas en marzo 2026:", "vence", "Cómo pedir sus facturas",
            "facturas pendientes", "Extracto de cuenta de T1 2026"),
    Speaker("it", "it_IT", "fatture marzo", "aiuto\nestratto conto primo trimestre",
            "Fatture nel periodo marzo 2026:", "emessa", "Come chiedere le fatture",
            "fatture non pagate", "Estratto conto per T1 2026"),
    Speaker("nl", "nl_NL", "facturen maart", "hulp\nrekeningoverzicht Q1",
            "Facturen in maart 2026:", "vervaldatum", "Zo vraagt u om facturen",
            "onbetaalde facturen", "Rekeningoverzicht voor Q1 2026"),
    Speaker("pt", "pt_PT", "faturas março", "ajuda\nextrato de conta primeiro trimestre",
            "Faturas em março 2026:", "vencimento", "Como pedir faturas",
            "faturas em aberto", "Extrato de conta de T1 2026"),
)

# The statement PDF's own labels in each language (the documents catalogue), as its
# extracted text holds them; the words of one language appear in no other's.
STATEMENT_PDF_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("Statement of account", "Opening balance", "Closing balance"),
    "de": ("Kontoauszug", "Anfangssaldo", "Endsaldo"),
    "fr": ("Relevé de compte", "Solde d'ouverture", "Solde de clôture"),
    "es": ("Extracto de cuenta", "Saldo inicial", "Saldo final"),
    "it": ("Estratto conto", "Saldo iniziale", "Saldo finale"),
    "nl": ("Rekeningoverzicht", "Beginsaldo", "Eindsaldo"),
    "pt": ("Extrato de conta", "Saldo inicial", "Saldo final"),
}


async def add_contact(email: str, locale: str = "", role: str = "approver") -> Contact:
    """A contact of ACME (locale de_DE in the data), as the data would say."""
    acme = await Account.get(account_id="ACME")
    return await Contact.create(account_id=acme.id, email=email, role=role, locale=locale,
                                timezone="Europe/Berlin")


async def ask(running: Running, sender: str, subject: str, body: str = "") -> EmailMessage:
    before = len(running.sink.messages)
    await running.send(request_mail(sender, subject, body=body or "\n"))
    await running.sink.wait_for(before + 1)
    return running.sink.messages[-1].message


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


async def statement_pdf_text(running: Running, body: str, label: str) -> str:
    """The statement PDF linked in a reply (its link line starts with the file's label),
    downloaded over HTTP and read as text."""
    line = next(ln for ln in body.splitlines() if ln.startswith(label) and LINK.search(ln))
    response = await running.download(LINK.findall(line)[0])
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pages = PdfReader(io.BytesIO(response.content)).pages
    return "\n".join(page.extract_text() for page in pages)


@pytest.mark.parametrize("speaker", SPEAKERS, ids=lambda s: s.language)
async def test_each_language_end_to_end(running: Running, speaker: Speaker) -> None:
    """A request in the language gets its listing, help and statement in that language,
    with the locale's dates and amounts; the email's layout speaks it too."""
    email = f"clerk-{speaker.language}@acme.example"
    await add_contact(email, speaker.locale)
    reply = await ask(running, email, speaker.request, speaker.body)
    body = text_of(reply)

    assert speaker.listing in body
    row = next(ln for ln in body.splitlines() if ln.startswith("INV-2026-0301"))
    assert speaker.row_word in row
    assert format_date(ISSUED, "medium", locale=speaker.locale) in row
    assert format_currency(TOTAL, "EUR", locale=speaker.locale) in row
    assert speaker.help_subject in body and f"- {speaker.help_example}\n" in body
    assert speaker.statement in body
    html = reply.get_body(preferencelist=("html",))
    assert html is not None and f'<html lang="{speaker.language}">' in str(
        html.get_content())  # type: ignore[attr-defined]
    assert reply["Content-Language"] == speaker.language
    others = [s for s in SPEAKERS if s.language != speaker.language]
    assert not any(other.help_subject in body for other in others)

    pdf = await statement_pdf_text(running, body, "statement-")
    for word in STATEMENT_PDF_WORDS[speaker.language]:
        assert word in pdf, pdf
    assert format_date(ISSUED, "medium", locale=speaker.locale) in pdf  # the locale's dates
    if speaker.language != "en":
        assert "Opening balance" not in pdf


async def test_the_data_says_german_and_a_french_request_still_gets_german(
    running: Running,
) -> None:
    """The rule (README "Languages"): the contact's own locale wins over the language of
    the request, until they ask for another language; that choice is kept."""
    await add_contact("lena@acme.example", "de_DE", role="approver")  # may ask statements

    first = text_of(await ask(running, "lena@acme.example", "factures mars"))
    assert "Rechnungen im Zeitraum März 2026:" in first and "factures" not in first.lower()

    chosen = await ask(running, "lena@acme.example", "réponds en français")
    assert chosen["Subject"] == "Nous vous répondrons désormais en français"
    assert (await Contact.get(email="lena@acme.example")).answer_language == "fr"

    later = text_of(await ask(running, "lena@acme.example", "Rechnungen März"))
    assert "Factures sur la période mars 2026 :" in later
    assert "04.03.2026" in later  # the words are French, the dates still her locale's

    # A statement is made for the reader: in her answer language, with her locale's dates
    # (an invoice PDF stays the document as issued, in ACME's language).
    statement = text_of(await ask(running, "lena@acme.example", "Kontoauszug Q1"))
    pdf = await statement_pdf_text(running, statement, "statement-")
    assert all(word in pdf for word in STATEMENT_PDF_WORDS["fr"]), pdf
    assert "Kontoauszug" not in pdf and "04.03.2026" in pdf

    back = await ask(running, "lena@acme.example", "auf Deutsch bitte")
    assert back["Subject"] == "Wir antworten Ihnen ab jetzt auf Deutsch"
    again = text_of(await ask(running, "lena@acme.example", "factures mars"))
    assert "Rechnungen im Zeitraum März 2026:" in again


async def test_without_a_locale_the_request_language_then_the_account_decides(
    running: Running,
) -> None:
    """ap@acme.example has no locale of her own; ACME's is de_DE."""
    french = text_of(await ask(running, "ap@acme.example", "factures mars"))
    assert "Factures sur la période mars 2026 :" in french
    english = text_of(await ask(running, "ap@acme.example", "invoices March"))
    assert "Invoices in March 2026:" in english
    neutral = await ask(running, "ap@acme.example", "INV-2026-0301")  # no language in it
    assert neutral["Subject"] == "Rechnung INV-2026-0301"


def test_alerts_and_digests_follow_the_choice_then_the_locales() -> None:
    """No request to read: the choice, else the contact's locale, else the account's."""
    account = Account(locale="de_DE")
    assert answer_language(Contact(locale="", answer_language=""), account) == "de"
    assert answer_language(Contact(locale="fr_FR", answer_language=""), account) == "fr"
    assert answer_language(Contact(locale="fr_FR", answer_language="nl"), account) == "nl"
    assert answer_language(Contact(locale="sv_SE", answer_language=""), Account(locale="")) \
        == "en"


def test_ar_reads_its_digest_in_the_sellers_language(make_config) -> None:  # type: ignore[no-untyped-def]
    assert make_config(INVOICEBOT_SELLER_LOCALE="de_DE").seller.locale == "de_DE"
    with pytest.raises(ConfigError, match="INVOICEBOT_SELLER_LOCALE"):
        make_config(INVOICEBOT_SELLER_LOCALE="sv_SE")
    item = Item(kind="person", what="Asked for a person", account="ACME Freight GmbH (ACME)",
                who="ap@acme.example", when="2026-11-21 09:00 CET", summary="call me",
                action="Call them back.")
    (section,) = sections_of([item], catalogue("de", "messages"))
    assert section.details[0] == "wer: ap@acme.example"
    assert section.details[3] == "was Sie tun können: Call them back."


async def test_a_chat_link_exchange_in_german_is_answered_in_german(
    orm: str, config: Config
) -> None:
    """Before the chat is linked only the words typed tell the language (the contact's own
    would say whether an address is on file); the code email and the linked answer follow
    the contact's rule, here the account's German."""
    del orm
    account = await Account.create(account_id="ACME", name="ACME Freight GmbH",
                                   locale="de_DE", slack_team_id="T0ACME")
    await Contact.create(account=account, email="ap@acme.example")
    linker = Linker(Guard(config.email), "s" * 40, FixedClock(SYSTEM.now()))
    anna = ChatUser("telegram", "", "700001", "700001")

    async def say(text: str) -> str:
        command = link_command(text, anna.platform)
        reply = (await linker.run(command, anna, written_in(text)) if command is not None
                 else how_to_link(written_in(text)))
        assert reply is not None
        return f"{reply.subject}\n{reply.intro}\n{' '.join(reply.notes)}\n{reply.outro}"

    first = await say("Hallo, bitte schicken Sie mir die offenen Rechnungen")
    assert "Dieser Chat ist noch mit keinem bei uns hinterlegten Kontakt verknüpft" in first
    assert "cannot get invoices" not in first
    assert not await OutboxMessage.filter(kind="link_code").exists()  # no code asked yet
    await say("link ap@acme.example")
    row = await OutboxMessage.get(kind="link_code")
    mail = email.message_from_bytes(wire(bytes(row.payload)), policy=email.policy.default)
    assert mail["Subject"] == "Ihr Code zum Verknüpfen eines Chats"
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    code = re.search(r"Ihr Code lautet (\d{8})\.", body)
    assert code, body
    linked = await say(code[1])
    assert "Verknüpft: Dieser Chat erhält jetzt die Rechnungen von ACME Freight GmbH" in linked
