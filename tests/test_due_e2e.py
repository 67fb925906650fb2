"""Due dates end to end over real SMTP: "due this week" lists exactly the unpaid invoices
whose due date falls in this week (Monday to Sunday around 2026-11-21), soonest due
first, and says "due in ..."; an invoice issued this week but due later is not among
them (it once was: due dates were read as issue dates)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.commands_cli import pdf_issuer
from tests.fakes import SmtpSink
from tests.harness import TODAY, Running, request_mail
from tests.test_email_e2e import ask, start, text_of
from vault import events
from vault.clock import FixedClock
from vault.ingest.csv import import_csv
from vault.pdf import PdfRenderer

HEADER = ("account_id,invoice_number,issue_date,due_date,currency,description,quantity,"
          "unit_price,tax_rate,entity,po_number,status\n")
INVOICES = {  # number: (account, issued, due); all 100.00 EUR, no tax
    "INV-2026-1101": ("ACME", "2026-10-17", "2026-11-16"),  # Monday: overdue by now
    "INV-2026-1102": ("ACME", "2026-10-23", "2026-11-22"),  # Sunday: open
    "INV-2026-1103": ("ACME", "2026-10-20", "2026-11-19"),  # partly paid, then overdue
    "INV-2026-1104": ("ACME", "2026-10-19", "2026-11-18"),  # paid: nothing is due
    "INV-2026-1105": ("ACME", "2026-10-16", "2026-11-15"),  # last Sunday
    "INV-2026-1106": ("ACME", "2026-10-24", "2026-11-23"),  # next Monday
    "INV-2026-1107": ("ACME", "2026-11-17", "2026-12-17"),  # issued this week, due later
    "INV-2026-1190": ("GLOBEX", "2026-10-21", "2026-11-20"),  # another account's
}
PAYMENTS = ("account_id,invoice_number,amount,paid_on,reference,method\n"
            "ACME,INV-2026-1103,50.00,2026-11-10,BANK-1103,transfer\n"
            "ACME,INV-2026-1104,100.00,2026-11-12,BANK-1104,transfer\n")


@pytest.fixture
async def running(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str, tmp_path: Path,
) -> AsyncIterator[Running]:
    """The e2e vault (tests/harness.py) and this week's invoices, imported as history."""
    from tests.harness import PUBLIC_URL, load_e2e_data

    config = make_config(INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
                         INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
                         INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32")
    service = await start(config)
    await load_e2e_data(config, renderer)
    rows = "".join(
        f"{account},{number},{issued},{due},{'USD' if account == 'GLOBEX' else 'EUR'},"
        f"Freight,1,100.00,0,,,\n" for number, (account, issued, due) in INVOICES.items())
    (tmp_path / "invoices.csv").write_text(HEADER + rows)
    (tmp_path / "payments.csv").write_text(PAYMENTS)
    async with pdf_issuer(config, renderer) as issue:
        with events.silenced():
            for kind in ("invoices", "payments"):
                await import_csv(kind, tmp_path / f"{kind}.csv", on_issued=issue,
                                 progress=False, clock=FixedClock.on(TODAY))
    yield Running(service=service, sink=sink, config=config)
    await service.stop()


def listed(body: str) -> list[str]:
    return re.findall(r"^(INV-\d{4}-\d{4})  ", body, re.M)


async def question(running: Running, text: str) -> tuple[str, str]:
    running.sink.messages.clear()
    reply = await ask(running, request_mail("ap@acme.example", text))
    return str(reply["Subject"]), text_of(reply).replace("\xa0", " ")


# Each question is answered in the language it is written in (README "Languages").
@pytest.mark.parametrize(("text", "title", "row"), [
    ("invoices due this week", "Unpaid invoices due in 16.11.2026 – 22.11.2026: 3 invoices",
     "INV-2026-1101  issued 17.10.2026  due 16.11.2026  100,00 €  overdue"),
    ("Welche Rechnungen sind diese Woche fällig?",
     "Offene Rechnungen fällig im Zeitraum 16.11.2026 – 22.11.2026: 3 Rechnungen",
     "INV-2026-1101  ausgestellt 17.10.2026  fällig 16.11.2026  100,00 €  überfällig"),
    ("factures à échéance cette semaine",
     "Factures impayées à échéance sur la période 16.11.2026 – 22.11.2026 : 3 factures",
     "INV-2026-1101  émise le 17.10.2026  échéance 16.11.2026  100,00 €  échue"),
])
async def test_due_this_week_lists_exactly_the_invoices_due_in_this_week(
    running: Running, text: str, title: str, row: str,
) -> None:
    subject, body = await question(running, text)
    assert subject == title
    assert listed(body) == ["INV-2026-1101", "INV-2026-1103", "INV-2026-1102"]  # by due date
    assert row in body


async def test_paid_invoices_due_this_week_are_asked_for_by_name(running: Running) -> None:
    subject, body = await question(running, "paid invoices due this week")
    assert subject == "Paid invoices due in 16.11.2026 – 22.11.2026: 1 invoice"
    assert listed(body) == ["INV-2026-1104"]


async def test_due_next_week_and_what_is_due_soonest_first(running: Running) -> None:
    subject, body = await question(running, "what is due next week?")
    assert subject == "Unpaid invoices due in 23.11.2026 – 29.11.2026: 1 invoice"
    assert listed(body) == ["INV-2026-1106"]

    subject, body = await question(running, "what is due?")
    assert subject == "Unpaid invoices by due date: 8 invoices"
    due = re.findall(r"  due (\d\d)\.(\d\d)\.(\d{4})  ", body)
    assert [(y, m, d) for d, m, y in due] == sorted((y, m, d) for d, m, y in due)
    assert "INV-2026-1104" not in body and "INV-2026-1190" not in body


async def test_nothing_due_on_a_day_names_the_next_one_due(running: Running) -> None:
    subject, body = await question(running, "invoices due today")
    assert subject == "Unpaid invoices due on 21.11.2026: no invoices"
    assert "The next one due is INV-2026-1102, due on 22.11.2026." in body
