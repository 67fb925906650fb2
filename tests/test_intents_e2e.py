"""Every intent end to end through the real email path: SMTP in, the reply from the SMTP
sink, links fetched over real HTTP, PDFs read back with pypdf, ZIPs opened.

Each test runs twice: `email` sends the words over SMTP (parser and answers together);
`commands` hands the running service's pipeline the typed commands those words mean
(answers alone, links still fetched over HTTP). Both must pass; a test failing only by
email points at the parser. One service and one copy of the intents data set serve the
whole module (tests/worlds.py); disputes happen on an account no other test reads.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from babel.dates import format_date
from pypdf import PdfReader

from bot.intents import (
    OVERDUE,
    UNPAID,
    Aging,
    Archive,
    Balance,
    Cadence,
    Command,
    Dispute,
    Filters,
    Help,
    InvoiceRef,
    ListInvoices,
    Payments,
    Period,
    PreferenceChange,
    Preferences,
    ShowInvoice,
    Statement,
    TalkToPerson,
)
from bot.messages import Request
from bot.service import Service
from tests.fakes import SmtpSink
from tests.harness import DOWNLOAD_LINK as LINK
from tests.harness import PUBLIC_URL, Running, fixed_clock, request_mail, until
from tests.worlds import load_intents_data, scratch_database, world_config
from vault.clock import SYSTEM
from vault.documents import DocumentStore
from vault.models import AlertPreference, Contact, Document, Escalation, Invoice, InvoiceStatus
from vault.models import Dispute as Dispute_
from vault.pdf import PdfRenderer

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class World:
    running: Running
    store: DocumentStore

    async def email(self, sender: str, subject: str, body: str | None = None) -> str:
        """Send one request; the text of the one reply to it (spaces normalised)."""
        msg = request_mail(sender, subject, body=body)
        await self.running.send(msg)
        reply = await until(lambda: self._reply_to(msg))
        return plain(reply)

    async def commands(self, sender: str, text: str, commands: tuple[Command, ...]) -> str:
        """The running pipeline's reply to these typed commands, as the email would read."""
        contact = await Contact.get(email=sender)
        request = Request(channel="test", address=sender, text=text, authenticated=True,
                          received_at=SYSTEM.now(), reference=uuid.uuid4().hex)
        answer = await self.running.service.pipeline.answer_commands(
            contact, request, list(commands))
        return normalise(answer.reply.as_text())

    async def _reply_to(self, msg: EmailMessage) -> EmailMessage | None:
        replies = [r.message for r in self.running.sink.messages
                   if r.message["In-Reply-To"] == msg["Message-ID"]]
        assert len(replies) <= 1, "one request, one reply"
        return replies[0] if replies else None

    async def fetch(self, url: str) -> bytes:
        response = await self.running.download(url)
        assert response.status_code == 200, response.status_code
        return response.content


@dataclass
class Bot:
    """Asks the world one way or the other (see the module docstring)."""

    world: World
    via: str

    async def ask(self, sender: str, text: str, *commands: Command, body: str | None = None,
                  ) -> str:
        if self.via == "email":
            return await self.world.email(sender, text, body)
        return await self.world.commands(sender, f"{text}\n{body or ''}", commands)

    async def fetch(self, url: str) -> bytes:
        return await self.world.fetch(url)


def plain(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return normalise(str(part.get_content()))  # type: ignore[attr-defined]


def normalise(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ").replace("\r\n", "\n")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    tmp = tmp_path_factory.mktemp("intents-e2e")
    with scratch_database(tmp) as url:
        yield tmp, url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(world_db: tuple[Path, str], renderer: PdfRenderer) -> AsyncIterator[World]:
    tmp, url = world_db
    sink = SmtpSink()
    await sink.start()
    # The module's tests download through one world: more than 50 documents a day for
    # one contact, which access watching (rightly) takes for unusual and answers with a
    # step-up. That rule has its own tests (test_access_watch); here it is out of the way.
    config = world_config(tmp, url, INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
                          INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
                          INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32",
                          INVOICEBOT_ACCESS_WATCH_DOWNLOADS_FLOOR="1000000")
    service = Service(config, clock=fixed_clock(), renderer=renderer)
    await service.start()
    await load_intents_data(config, renderer)
    yield World(Running(service, sink, config), service.store)
    await service.stop()
    await sink.stop()


@pytest.fixture(params=["email", "commands"])
def bot(world: World, request: pytest.FixtureRequest) -> Bot:
    return Bot(world, request.param)


# ---- listings --------------------------------------------------------------------------------

ACME_FREIGHT_2026 = ListInvoices(Filters(
    period=Period.year(2026), statuses=UNPAID, entity="ACME Freight", min_amount=Decimal(1000),
    currency="EUR"))


async def test_unpaid_invoices_of_one_entity_over_an_amount_in_a_year(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "unpaid invoices 2026 for ACME Freight over 1000 EUR",
                         ACME_FREIGHT_2026)
    assert "Unpaid invoices in 2026 for ACME Freight GmbH over 1.000,00 €: 2 invoices" in body
    assert ("INV-2026-0042  issued 04.03.2026  due 03.04.2026  3.017,04 € (2.017,04 € due)  "
            "overdue") in body
    assert "INV-2026-0070" in body
    for other in ("INV-2026-0090", "INV-2026-0050", "INV-2026-0081", "INV-2026-0061"):
        assert other not in body  # under 1000, paid, another entity, USD
    pdfs = [pdf_text(await bot.fetch(url)) for url in LINK.findall(body)]
    # ACME's invoices are German (its locale de_DE): "Rechnungsnummer" is "Invoice number".
    assert sorted(p.split("Rechnungsnummer")[1].split()[0] for p in pdfs) == [
        "INV-2026-0042", "INV-2026-0070"]


async def test_overdue_invoices_of_the_other_entity(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "overdue invoices ACME Logistics",
                         ListInvoices(Filters(statuses=OVERDUE, entity="ACME Logistics")))
    numbers = re.findall(r"^(INV-\S+)  issued", body, re.M)
    assert numbers == ["INV-2026-0081", "INV-2026-0065", "INV-2026-0061"]  # newest first
    assert "5.000,00 $" in body  # USD in the contact's de_DE format


@pytest.mark.parametrize(("text", "filters", "numbers"), [
    ("invoices PO-7781", Filters(po_number="PO-7781"), ["INV-2026-0042"]),
    ("PO 7781", Filters(po_number="7781"), ["INV-2026-0042"]),
    ("last 3 invoices", Filters(last=3), ["INV-2026-0095", "INV-2026-0090", "INV-2026-0081"]),
    ("invoices of €1,250.00", Filters(amount=Decimal("1250.00"), currency="EUR"),
     ["INV-2026-0081"]),
    ("invoices May 2026", Filters(period=Period.month(2026, 5)), ["INV-2026-0055"]),
], ids=["po-number", "po-digits", "last-n", "exact-amount", "void-listed"])
async def test_listing_filters(bot: Bot, text: str, filters: Filters, numbers: list[str]) -> None:
    body = await bot.ask("ap@acme.example", text, ListInvoices(filters))
    # "PO 7781" is written in no language: ACME's locale (de_DE) answers (README Languages).
    issued = "ausgestellt" if text == "PO 7781" else "issued"
    assert re.findall(rf"^(INV-\S+)  {issued}", body, re.M) == numbers


async def test_over_twenty_results_are_summarised_with_one_zip_of_all(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "invoices 2025",
                         ListInvoices(Filters(period=Period.year(2025))))
    assert "Invoices in 2025: 22 invoices, totalling 21.681,80 € and 5.200,00 $." in body
    assert "The 20 most recent are listed below; all of them are in one ZIP file." in body
    listed = re.findall(r"^(INV-\S+)  issued", body, re.M)
    assert len(listed) == 20 and listed[0] == "INV-2025-0021"
    assert "INV-2025-0001" not in listed and "INV-2025-0002" not in listed  # the two oldest
    (zip_url,) = re.findall(r"^invoices-in-2025\.zip: (\S+)$", body, re.M)
    archive = zipfile.ZipFile(io.BytesIO(await bot.fetch(zip_url)))
    assert len(archive.namelist()) == 22 + 1  # every match, plus index.csv


async def test_no_results_say_so_and_point_to_the_nearest(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "invoices February 2026",
                         ListInvoices(Filters(period=Period.month(2026, 2))))
    assert "Invoices in February 2026: no invoices." in body
    assert "The nearest invoice on your account is INV-2026-0042 from 04.03.2026." in body
    assert not LINK.findall(body)


# ---- one invoice -----------------------------------------------------------------------------

def ref(text: str, prefix: str, *digits: int) -> InvoiceRef:
    return InvoiceRef(text, prefix, digits)


async def test_invoice_detail_lines_tax_payments_due_history_and_link(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "invoice inv 2026 42",
                         ShowInvoice(ref("inv 2026 42", "INV", 2026, 42)))
    assert "Here is invoice INV-2026-0042." in body
    assert "- PO number: PO-7781" in body
    assert ("- Line 1: Container freight Hamburg–Rotterdam, 2 × 1.200,00 € = 2.400,00 € "
            "(tax 19 %)") in body
    assert "- Line 2: Customs handling, 1 × 150,50 € = 150,50 € (tax 7 %)" in body
    assert "- Subtotal 2.550,50 €, tax 466,54 €, total 3.017,04 €" in body
    assert "- Payment applied 01.04.2026: 1.000,00 € (BANK-2026-04, transfer)" in body
    assert "- Amount due: 2.017,04 €" in body
    history = re.findall(r"^- Status (\S+): (.+)$", body, re.M)
    assert history == [("04.03.2026", "open (issued)"),
                       ("01.04.2026", "partially paid (payment received)"),
                       ("04.04.2026", "overdue (due date passed)")]
    invoice_url, receipt_url = LINK.findall(body)
    assert "INV-2026-0042" in pdf_text(await bot.fetch(invoice_url))
    assert f"Receipt INV-2026-0042, paid on 01.04.2026 (1.000,00 €): {receipt_url}" in body
    receipt = pdf_text(await bot.fetch(receipt_url))
    # German, as ACME's locale: "Payment receipt", "This payment", "Still due".
    assert "Zahlungsbestätigung" in receipt and "BANK-2026-04" in receipt
    assert "Diese Zahlung 1.000,00 €" in receipt and "Noch offen 2.017,04 €" in receipt


async def test_a_short_number_matching_several_invoices_lists_them(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "invoice #42", ShowInvoice(ref("#42", "", 42)))
    assert "Several invoices on your account match #42:" in body
    assert "- INV-2026-0042\n- INV-2025-0042" in body
    assert not LINK.findall(body)


def without_account_link(text: str) -> str:
    return re.sub(r"/a/[A-Za-z0-9._-]+", "/a/LINK", text)


async def test_a_near_miss_gets_did_you_mean_from_this_account_only(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "invoice INV-2026-0043",
                         ShowInvoice(ref("INV-2026-0043", "INV", 2026, 43)))
    assert "We could not find invoice INV-2026-0043 on your account." in body
    assert "Did you mean INV-2026-0042?" in body
    # GLOBEX's INV-2026-0044 reads exactly like a number nobody has.
    foreign = await bot.ask("ap@acme.example", "invoice INV-2026-0044",
                            ShowInvoice(ref("INV-2026-0044", "INV", 2026, 44)))
    nobody = await bot.ask("ap@acme.example", "invoice INV-2026-0046",
                           ShowInvoice(ref("INV-2026-0046", "INV", 2026, 46)))
    # Alike but for the number, and each reply's own "Open your account" link.
    assert without_account_link(foreign.replace("0044", "N")) == without_account_link(
        nobody.replace("0046", "N"))


# ---- money -----------------------------------------------------------------------------------

async def test_balance_per_currency(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "balance", Balance())
    assert ("Your balance on 21.11.2026: 7.042,04 € and 5.300,00 $ outstanding, of which "
            "6.447,04 € and 5.000,00 $ overdue.") in body
    assert ("- EUR: 7.042,04 € outstanding on 5 invoices; 6.447,04 € overdue on 4 invoices "
            "(the oldest was due 03.04.2026)") in body
    assert "- USD: 5.300,00 $ outstanding on 2 invoices; 5.000,00 $ overdue on 1 invoice" in body


async def test_aging_buckets_per_currency(bot: Bot) -> None:
    body = await bot.ask("approver@acme.example", "aging", Aging())
    assert ("- EUR: Current 595,00 € · 1-30 days 1.250,00 € · 31-60 days 2.380,00 € · "
            "61-90 days 800,00 € · Over 90 days 2.017,04 € · Total 7.042,04 €") in body
    assert ("- USD: Current 300,00 $ · 1-30 days 0,00 $ · 31-60 days 0,00 $ · 61-90 days "
            "0,00 $ · Over 90 days 5.000,00 $ · Total 5.300,00 $") in body


async def test_statement_pdf_has_balances_invoices_payments_and_aging(bot: Bot) -> None:
    body = await bot.ask("approver@acme.example", "statement 2026",
                         Statement(Period.year(2026)))
    assert "Here is your statement of account for 2026 (as of 21.11.2026)." in body
    assert ("- EUR: opening balance 1.190,00 €, invoices 9.208,24 €, payments 3.390,00 €, "
            "closing balance 7.008,24 €, credit 33,80 €") in body
    (url,) = LINK.findall(body)
    response = await bot.world.running.download(url)
    assert 'filename="statement-ACME-2026-01-01-2026-12-31.pdf"' in response.headers[
        "content-disposition"]
    # pypdf drops some spaces between table cells: compare without any whitespace. The
    # statement is in the account's language (ACME: de_DE), its words and its formats.
    text = squash(pdf_text(response.content))
    for expected in (
        "Kontoauszug", "ACME Freight GmbH", "Zeitraum 01.01.2026 – 31.12.2026",
        "EUR Anfangssaldo 1.190,00 € Rechnungen 9.208,24 € Zahlungen -3.390,00 € "
        "Endsaldo 7.008,24 € Guthaben 33,80 €",
        "09.01.2026 Zahlung BANK-2026-01 zu INV-2025-0021 1.190,00 € 0,00 €",
        "04.03.2026 Rechnung INV-2026-0042 fällig 03.04.2026 3.017,04 € 3.017,04 €",
        "10.04.2026 Zahlung BANK-2026-05 zu INV-2026-0050 1.200,00 € 1.983,24 €",
        "10.11.2026 Rechnung INV-2026-0090 fällig 10.12.2026 595,00 € 7.008,24 €",
        "Nicht fällig 1–30 Tage 31–60 Tage 61–90 Tage Über 90 Tage Gesamt "
        "595,00 € 1.250,00 € 2.380,00 € 800,00 € 2.017,04 € 7.042,04 €",
        "USD Anfangssaldo 0,00 $ Rechnungen 5.300,00 $ Zahlungen 0,00 $ "
        "Endsaldo 5.300,00 $",
        "300,00 $ 0,00 $ 0,00 $ 0,00 $ 5.000,00 $ 5.300,00 $",
    ):
        assert squash(expected) in text, expected
    assert "INV-2026-0055" not in text  # void: never owed


async def test_payments_received_in_a_month(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "payments April 2026",
                         Payments(Period.month(2026, 4)))
    assert "Payments received in April 2026: 2 payments, totalling 2.200,00 €." in body
    assert "- 10.04.2026: 1.200,00 € for INV-2026-0050 (BANK-2026-05, card)" in body
    assert "- 01.04.2026: 1.000,00 € for INV-2026-0042 (BANK-2026-04, transfer)" in body


# ---- archive ---------------------------------------------------------------------------------

async def test_archive_is_one_zip_of_exactly_the_matching_pdfs_with_an_index(bot: Bot) -> None:
    body = await bot.ask("ap@acme.example", "all 2025 as zip",
                         Archive(Filters(period=Period.year(2025))))
    (url,) = LINK.findall(body)
    assert "22 invoices in one ZIP file" in body
    archive = zipfile.ZipFile(io.BytesIO(await bot.fetch(url)))
    assert archive.testzip() is None
    expected = await Invoice.filter(issue_date__gte=date(2025, 1, 1),
                                    issue_date__lte=date(2025, 12, 31), account__account_id="ACME")
    stored = {i.number: await Document.get(id=i.document_id) for i in expected}
    assert sorted(archive.namelist()) == sorted([*(f"{n}.pdf" for n in stored), "index.csv"])
    for number, document in stored.items():
        assert archive.read(f"{number}.pdf") == await bot.world.store.read(document)
    index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
    assert sorted(r["number"] for r in index) == sorted(stored)
    row = next(r for r in index if r["number"] == "INV-2025-0042")
    assert row == {"number": "INV-2025-0042", "issue_date": "2025-06-30",
                   "due_date": "2025-07-30", "amount": "499.80", "currency": "EUR",
                   "status": "paid", "file": "INV-2025-0042.pdf"}


# ---- people ----------------------------------------------------------------------------------

async def test_dispute_is_recorded_escalated_and_acknowledged(bot: Bot) -> None:
    # Each way disputes its own invoice: the second dispute of one would be refused.
    number, before = {"email": ("INV-2026-0500", "overdue"),
                      "commands": ("INV-2026-0501", "paid")}[bot.via]
    digits = int(number[-4:])
    command = Dispute(ref(number, "INV", 2026, digits), "wrong quantity")
    body = await bot.ask("manager@initech.example", f"dispute {number} wrong quantity", command)
    if before == "paid":  # nothing owed: not put in dispute (it would leave every count)
        assert f"Invoice {number} is paid in full, so it cannot be put in dispute." in body
        assert (await Invoice.get(number=number)).status == InvoiceStatus.PAID
        noted = await Escalation.get(kind="dispute", summary__contains=number)
        assert "(paid in full) questioned: wrong quantity" in noted.summary
        return
    assert f"We have recorded your dispute of invoice {number}." in body
    assert "- Reason: wrong quantity" in body
    invoice = await Invoice.get(number=number)
    assert invoice.status == InvoiceStatus.DISPUTED
    dispute = await Dispute_.get(invoice_id=invoice.id)
    assert (dispute.reason, dispute.previous_status) == ("wrong quantity", before)
    escalation = await Escalation.get(kind="dispute", summary__contains=number)
    assert escalation.address == "manager@initech.example"
    assert "wrong quantity" in escalation.summary

    again = await bot.ask("manager@initech.example", f"dispute {number} wrong quantity", command)
    raised = format_date(dispute.at.astimezone(ZoneInfo("Europe/London")), "medium", "en_GB")
    assert f"Invoice {number} is already under dispute since {raised}." in again
    assert await Escalation.filter(kind="dispute", summary__contains=number).count() == 1
    detail = await bot.ask("manager@initech.example", f"invoice {number}",
                           ShowInvoice(command.ref))
    assert "disputed (by " in detail and ": “wrong quantity”)" in detail


async def test_talk_to_a_person_escalates_the_conversation(bot: Bot) -> None:
    words = f"We need to discuss the freight rates for 2027 ({bot.via})."
    pasted = f"{PUBLIC_URL}/d/IkFCQyI.secret-token-{bot.via}"  # a link they were sent
    body = await bot.ask("ap@acme.example", "talk to a person", TalkToPerson("talk to a person"),
                         body=f"{words}\nAbout {pasted}\n")
    assert "a person will get back to you" in body
    escalation = await Escalation.get(kind="person", summary__contains=words)
    assert escalation.address == "ap@acme.example"
    assert "secret-token" not in escalation.summary and "/d/<redacted>" in escalation.summary


async def test_asking_about_overdue_invoices_is_an_item_for_ar(bot: Bot) -> None:
    before = await Escalation.filter(kind="overdue_question").count()
    await bot.ask("ap@acme.example", "overdue invoices ACME Logistics",
                  ListInvoices(Filters(statuses=OVERDUE, entity="ACME Logistics")))
    assert await Escalation.filter(kind="overdue_question").count() == before + 1
    item = await Escalation.filter(kind="overdue_question").order_by("-id").first()
    assert item is not None and item.address == "ap@acme.example"


async def test_help_shows_what_this_role_may_ask(bot: Bot) -> None:
    ap = await bot.ask("ap@acme.example", "help", Help())
    assert "- invoices November" in ap and "- balance" in ap and "- all 2026 as zip" in ap
    assert "statement Q1" not in ap and "- aging" not in ap and "- dispute INV" in ap
    assert ("(Statements need an approver or manager contact; aging reports need an "
            "approver or manager contact.)") in ap
    manager = await bot.ask("boss@acme.example", "help", Help())
    assert "- statement Q1" in manager and "- dispute INV-2026-0095 wrong quantity" in manager
    assert "need a" not in manager


async def test_help_examples_come_from_the_contacts_own_account(bot: Bot) -> None:
    acme = await bot.ask("approver@acme.example", "help", Help())
    assert "- invoice INV-2026-0095" in acme  # ACME's latest invoice
    assert "- invoices for ACME Logistics B.V." in acme  # ACME bills two entities
    assert "- invoices PO-9001" in acme and "- invoices over 1000 EUR" in acme
    globex = await bot.ask("ap@globex.example", "help", Help())
    assert "- invoice INV-2026-0305" in globex and "- invoices March" in globex
    assert "- invoices for Globex East LLC" in globex and "- invoices PO G-PO-1" in globex
    assert "ACME" not in globex and "INV-2026-0095" not in globex and "PO-9001" not in globex
    initech = await bot.ask("manager@initech.example", "help", Help())
    assert "- invoice INV-2026-0500" in initech and "Initech" not in initech  # one entity


@pytest.mark.parametrize(("sender", "text", "command", "needed"), [
    ("ap@acme.example", "statement 2026", Statement(Period.year(2026)),
     "statements are available to approver or manager contacts; you are registered as an AP"),
    ("ap@acme.example", "aging", Aging(),
     "aging reports are available to approver or manager contacts"),
], ids=["ap-statement", "ap-aging"])  # disputes: every role (the AP clerk finds the error)
async def test_an_intent_above_the_role_is_refused_naming_the_role(
    bot: Bot, sender: str, text: str, command: Command, needed: str
) -> None:
    body = await bot.ask(sender, text, command)
    assert f"Sorry, {needed}" in body
    assert not LINK.findall(body)
    assert (await Invoice.get(number="INV-2026-0042")).status == InvoiceStatus.OVERDUE


async def test_alert_settings_are_shown_and_changed_in_words(bot: Bot) -> None:
    # The world is shared by the email and commands runs: start from the defaults.
    await AlertPreference.filter(contact__email="ap@acme.example").delete()
    shown = await bot.ask("ap@acme.example", "my notification settings", Preferences())
    assert "This is how we tell you about your invoices:" in shown
    assert "- Channels: email" in shown and "These are your account's defaults." in shown
    daily = await bot.ask("ap@acme.example", "daily digest please",
                          Preferences(PreferenceChange(cadence=Cadence.DAILY)))
    assert "- How: a daily digest at 08:00" in daily
    stopped = await bot.ask("ap@acme.example", "stop alerts",
                            Preferences(PreferenceChange(stop=True)))
    assert "you will get no more invoice alerts" in stopped
    again = await bot.ask("ap@acme.example", "my notification settings", Preferences())
    assert "Alerts are stopped." in again


# ---- several requests, one reply ---------------------------------------------------------------

async def test_several_requests_in_one_mail_get_one_combined_reply(bot: Bot) -> None:
    body = await bot.ask(
        "ap@acme.example", "a few things", Balance(), Payments(Period.month(2026, 4)),
        ShowInvoice(ref("INV-2026-0050", "INV", 2026, 50)),
        body="balance\npayments April 2026\ninvoice INV-2026-0050\n\nAnna\n")
    assert body.startswith("You asked for 3 things on 21.11.2026; each answer follows.")
    sections = re.findall(r"^(\d)\. (.+)$", body, re.M)
    assert [n for n, _ in sections] == ["1", "2", "3"]
    assert sections[0][1].startswith("Your balance")
    assert sections[1][1] == "Payments received in April 2026: 2 payments"
    assert sections[2][1] == "Invoice INV-2026-0050"
    assert "Amount due: 0,00 €" in body
    assert re.search(r"^INV-2026-0050  issued 18\.03\.2026 .* paid on 10\.04\.2026$", body, re.M)
    # The invoice as issued, and next to it the receipt of its payment.
    _invoice_url, receipt_url = LINK.findall(body)
    assert f"Receipt INV-2026-0050, paid on 10.04.2026 (1.200,00 €): {receipt_url}" in body
    receipt = pdf_text(await bot.fetch(receipt_url))
    assert "Bezahlt am 10.04.2026" in receipt and "Diese Zahlung 1.200,00 €" in receipt
    assert "Noch offen 0,00 €" in receipt


async def test_contact_locale_and_time_zone_shape_the_formats(bot: Bot) -> None:
    body = await bot.ask("boss@acme.example", "invoice INV-2026-0042",  # en_GB, London
                         ShowInvoice(ref("INV-2026-0042", "INV", 2026, 42)))
    assert ("INV-2026-0042  issued 4 Mar 2026  due 3 Apr 2026  €3,017.04 (€2,017.04 due)  "
            "overdue") in body
    assert re.search(r"Links expire \d+ \w+ 2026, \d\d:\d\d:\d\d \(Greenwich Mean Time\)", body)
