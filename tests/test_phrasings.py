"""The phrasing table: how people really ask, and the exact command each must give.

Every case runs against today = 2026-11-21. Lines go through parse(); EMAIL cases are whole
messages (subject, body with greetings, quoted history, signatures, disclaimers; some HTML
only) run through the email cleaning (bot.mailtext) and parse_request, as the inbox does.
test_the_table_is_as_big_as_promised keeps the counts honest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from email.message import EmailMessage

import pytest

from bot.commands import parse, parse_request
from bot.intents import (
    OVERDUE,
    UNPAID,
    Aging,
    AlertEvent,
    Archive,
    Balance,
    Cadence,
    Command,
    Dispute,
    Due,
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
    Thanks,
    Unclear,
)
from bot.mailtext import request_lines
from vault.models import InvoiceStatus

TODAY = date(2026, 11, 21)
PAID = (InvoiceStatus.PAID,)
PARTIAL = (InvoiceStatus.PARTIALLY_PAID,)
DISPUTED = (InvoiceStatus.DISPUTED,)
VOID = (InvoiceStatus.VOID,)
EUR, USD, GBP = "EUR", "USD", "GBP"


# One-letter builders keep the table readable: M(onth), Q(uarter), Y(ear), D(ays),
# L(isting), A(rchive), R(eference), S(how), P(references).
def M(year: int, month: int) -> Period:
    return Period.month(year, month)


def Q(year: int, quarter: int) -> Period:
    return Period(date(year, 3 * quarter - 2, 1), Period.month(year, 3 * quarter).end)


def Y(year: int) -> Period:
    return Period.year(year)


def D(start: str, end: str) -> Period:
    return Period(date.fromisoformat(start), date.fromisoformat(end))


def L(**filters: object) -> ListInvoices:
    return ListInvoices(Filters(**filters))  # type: ignore[arg-type]


def A(**filters: object) -> Archive:
    return Archive(Filters(**filters))  # type: ignore[arg-type]


def R(text: str, prefix: str, *digits: int) -> InvoiceRef:
    return InvoiceRef(text, prefix, digits)


def S(text: str, prefix: str, *digits: int) -> ShowInvoice:
    return ShowInvoice(R(text, prefix, *digits))


def P(**change: object) -> Preferences:
    return Preferences(PreferenceChange(**change))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    text: str
    expected: Command | Unclear
    kind: str = "en"  # "en", "foreign", "typo"


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    expected: tuple[Command | Unclear, ...]
    html: bool = False


LINES = [
    # listings by month, quarter, year
    Case("invoices March", L(period=M(2026, 3))),
    Case("Invoices for March 2025 please", L(period=M(2025, 3))),
    Case("send me the invoices from February", L(period=M(2026, 2))),
    Case("INVOICES DECEMBER", L(period=M(2025, 12))),
    Case("invoices Nov", L(period=M(2026, 11))),
    Case("invoices 2025-03", L(period=M(2025, 3))),
    Case("invoices 03/2025", L(period=M(2025, 3))),
    Case("Mar 25 invoices", L(period=M(2025, 3))),
    Case("invoices for Q1", L(period=Q(2026, 1))),
    Case("Q3 2025 invoices", L(period=Q(2025, 3))),
    Case("invoices first quarter 2025", L(period=Q(2025, 1))),
    Case("invoices 2nd quarter", L(period=Q(2026, 2))),
    Case("Q4", L(period=Q(2026, 4))),
    Case("invoices 2024", L(period=Y(2024))),
    Case("all invoices from 2025", L(period=Y(2025))),
    Case("invoices FY2025", L(period=Y(2025))),
    Case("invoices this month", L(period=M(2026, 11))),
    Case("last month's invoices", L(period=M(2026, 10))),
    Case("invoices last quarter", L(period=Q(2026, 3))),
    Case("invoices this year", L(period=Y(2026))),
    Case("invoices last year", L(period=Y(2025))),
    Case("invoices from the last 90 days", L(period=D("2026-08-24", "2026-11-21"))),
    Case("invoices in the last 30 days", L(period=D("2026-10-23", "2026-11-21"))),
    Case("invoices past 2 weeks", L(period=D("2026-11-08", "2026-11-21"))),
    Case("invoices last 3 months", L(period=D("2026-08-22", "2026-11-21"))),
    Case("invoices since March", L(period=D("2026-03-01", "2026-11-21"))),
    Case("everything since 1 June", L(period=D("2026-06-01", "2026-11-21"))),
    Case("invoices year to date", L(period=D("2026-01-01", "2026-11-21"))),
    Case("last 3 invoices", L(last=3)),
    Case("my latest invoice", L(last=1)),
    Case("the 5 most recent invoices", L(last=5)),
    Case("invoices Jan-Mar", L(period=D("2026-01-01", "2026-03-31"))),
    Case("invoices January to March 2026", L(period=D("2026-01-01", "2026-03-31"))),
    Case("invoices between 1 Feb and 15 Mar 2026", L(period=D("2026-02-01", "2026-03-15"))),
    Case("invoices from 2026-02-01 to 2026-03-15", L(period=D("2026-02-01", "2026-03-15"))),
    Case("invoices Oct-Dec 2025", L(period=Q(2025, 4))),
    Case("invoices Nov 2025 - Feb 2026", L(period=D("2025-11-01", "2026-02-28"))),
    Case("invoices from 1 March 2026 until 31 March 2026", L(period=M(2026, 3))),
    Case("invoices Q1-Q2 2026", L(period=D("2026-01-01", "2026-06-30"))),
    Case("invoices 2024 to 2025", L(period=D("2024-01-01", "2025-12-31"))),
    Case("invoices 15 March 2026", L(period=D("2026-03-15", "2026-03-15"))),
    Case("invoices for may", L(period=M(2026, 5))),
    Case("may I have the invoices please", L()),
    # statuses
    Case("unpaid invoices", L(statuses=UNPAID)),
    Case("open invoices", L(statuses=UNPAID)),
    Case("which invoices are still open?", L(statuses=UNPAID)),
    Case("outstanding invoices", L(statuses=UNPAID)),
    Case("invoices due", L(statuses=UNPAID, due=Due())),
    Case("overdue invoices", L(statuses=OVERDUE)),
    Case("late invoices", L(statuses=OVERDUE)),
    Case("past due invoices", L(statuses=OVERDUE)),
    Case("Paid invoices", L(statuses=PAID)),
    Case("partially paid invoices", L(statuses=PARTIAL)),
    Case("disputed invoices", L(statuses=DISPUTED)),
    Case("void invoices", L(statuses=VOID)),
    Case("cancelled invoices 2025", L(statuses=VOID, period=Y(2025))),
    Case("unpaid and overdue invoices", L(statuses=OVERDUE)),
    Case("overdue invoices from last month", L(statuses=OVERDUE, period=M(2026, 10))),
    Case("paid invoices Q2 2026", L(statuses=PAID, period=Q(2026, 2))),
    Case("invoices not paid yet", L(statuses=UNPAID)),
    Case("open items", L(statuses=UNPAID)),
    Case("unpaid", L(statuses=UNPAID)),
    Case("Overdue?", L(statuses=OVERDUE)),
    # amounts
    Case("invoices over 5000", L(min_amount=Decimal(5000))),
    Case("invoices above €1,000", L(min_amount=Decimal(1000), currency=EUR)),
    Case("invoices under 100", L(max_amount=Decimal(100))),
    Case("invoices below $250", L(max_amount=Decimal(250), currency=USD)),
    Case("invoice for €1,250.00", L(amount=Decimal("1250.00"), currency=EUR)),
    Case("1.250,00 EUR", L(amount=Decimal("1250.00"), currency=EUR)),
    Case("$300", L(amount=Decimal(300), currency=USD)),
    Case("unpaid invoices over 10,000 EUR",
         L(statuses=UNPAID, min_amount=Decimal(10000), currency=EUR)),
    Case("invoices between 500 and 1000 GBP",
         L(min_amount=Decimal(500), max_amount=Decimal(1000), currency=GBP)),
    Case("invoices more than 2.500,50 €", L(min_amount=Decimal("2500.50"), currency=EUR)),
    Case("invoices less than 99.90", L(max_amount=Decimal("99.90"))),
    # purchase orders and entities
    Case("invoices PO 4500123", L(po_number="4500123")),
    Case("PO-77", L(po_number="PO-77")),
    Case("purchase order 4500123", L(po_number="4500123")),
    Case("invoices for PO#77", L(po_number="77")),
    Case("P.O. 4500123", L(po_number="4500123")),
    Case("invoices from Acme Freight GmbH", L(entity="Acme Freight GmbH")),
    Case("unpaid invoices for entity ACME Logistics",
         L(statuses=UNPAID, entity="ACME Logistics")),
    Case("overdue invoices ACME Logistics", L(statuses=OVERDUE, entity="ACME Logistics")),
    Case("invoices March from Northwind Supply GmbH",
         L(period=M(2026, 3), entity="Northwind Supply GmbH")),
    # one invoice
    Case("INV-2026-0042", S("INV-2026-0042", "INV", 2026, 42)),
    Case("inv 2026 42", S("inv 2026 42", "INV", 2026, 42)),
    Case("invoice 42", S("42", "", 42)),
    Case("#42", S("#42", "", 42)),
    Case("no. 1042", S("no. 1042", "", 1042)),
    Case("please resend invoice INV-1042", S("INV-1042", "INV", 1042)),
    Case("copy of INV-2026-0210 please", S("INV-2026-0210", "INV", 2026, 210)),
    Case("can I get a copy of invoice no. 1042?", S("no. 1042", "", 1042)),
    Case("show me inv-1042", S("inv-1042", "INV", 1042)),
    Case("INV 1042", S("INV 1042", "INV", 1042)),
    # balance, aging, statement, payments, archive
    Case("balance", Balance()),
    Case("What's our balance?", Balance()),
    Case("what do we owe", Balance()),
    Case("how much is outstanding?", Balance()),
    Case("how much do we owe you", Balance()),
    Case("total outstanding", Balance()),
    Case("aging", Aging()),
    Case("ageing report please", Aging()),
    Case("how old are our open invoices", Aging()),
    Case("aged debt report", Aging()),
    Case("statement Q1", Statement(Q(2026, 1))),
    Case("statement of account for 2025", Statement(Y(2025))),
    Case("SOA", Statement()),
    Case("account statement last month", Statement(M(2026, 10))),
    Case("Statement FY2025", Statement(Y(2025))),
    Case("payments", Payments()),
    Case("remittance history", Payments()),
    Case("what have we paid in March", Payments(M(2026, 3))),
    Case("payments last quarter", Payments(Q(2026, 3))),
    Case("payment history 2025", Payments(Y(2025))),
    Case("as zip", A()),
    Case("all in one file", A()),
    Case("download all 2025", A(period=Y(2025))),
    Case("zip of March invoices", A(period=M(2026, 3))),
    Case("all 2025 invoices as a zip", A(period=Y(2025))),
    Case("unpaid invoices in one file", A(statuses=UNPAID)),
    # disputes, people, help
    Case("dispute INV-1042 wrong quantity",
         Dispute(R("INV-1042", "INV", 1042), "wrong quantity")),
    Case("we disagree with invoice 1042: price is wrong",
         Dispute(R("1042", "", 1042), "price is wrong")),
    Case("INV-2026-0042 is wrong, we were charged twice",
         Dispute(R("INV-2026-0042", "INV", 2026, 42), "is wrong, we were charged twice")),
    Case("I want to dispute invoice #77 because the goods were damaged",
         Dispute(R("#77", "", 77), "because the goods were damaged")),
    Case("talk to a person", TalkToPerson("talk to a person")),
    Case("Can I speak to someone please?", TalkToPerson("Can I speak to someone please?")),
    Case("agent", TalkToPerson("agent")),
    Case("human please", TalkToPerson("human please")),
    Case("call me back", TalkToPerson("call me back")),
    Case("help", Help()),
    Case("what can you do?", Help()),
    Case("?", Help()),
    Case("Help me please", Help()),
    # alert settings
    Case("notify me on telegram", P(channels=("telegram",))),
    Case("alerts by email and slack", P(channels=("email", "slack"))),
    Case("daily digest", P(cadence=Cadence.DAILY)),
    Case("weekly digest please", P(cadence=Cadence.WEEKLY)),
    Case("instant alerts", P(cadence=Cadence.INSTANT)),
    Case("only overdue", P(events=(AlertEvent.OVERDUE,))),
    Case("quiet hours 20:00-07:00", P(quiet_hours=(time(20), time(7)))),
    Case("quiet hours from 10pm to 7am", P(quiet_hours=(time(22), time(7)))),
    Case("stop alerts", P(stop=True)),
    Case("unsubscribe", P(stop=True)),
    Case("resume alerts", P(resume=True)),
    Case("my notification settings", Preferences()),
    Case("send alerts to slack, daily digest, only overdue",
         P(channels=("slack",), cadence=Cadence.DAILY, events=(AlertEvent.OVERDUE,))),
    Case("notify me about new invoices and payments by email",
         P(channels=("email",), events=(AlertEvent.ISSUED, AlertEvent.PAYMENT_RECEIVED))),
    # not requests
    Case("hello there", Unclear("hello there")),
    Case("asdf qwer", Unclear("asdf qwer")),
    Case("Mayday", Unclear("Mayday")),
    Case("lorem ipsum", Unclear("lorem ipsum")),
    Case("link ap@acme.example", Unclear("link ap@acme.example")),
    Case("unlink", Unclear("unlink")),
    Case("123456", Unclear("123456")),
    Case("may I ask a question", Unclear("may I ask a question")),
    Case("the weather is nice today", Unclear("the weather is nice today")),
    # German, French, Spanish, Italian, Dutch, Portuguese
    Case("Rechnungen März", L(period=M(2026, 3)), "foreign"),
    Case("offene Rechnungen", L(statuses=UNPAID), "foreign"),
    Case("überfällige Rechnungen", L(statuses=OVERDUE), "foreign"),
    Case("bezahlte Rechnungen 2025", L(statuses=PAID, period=Y(2025)), "foreign"),
    Case("Rechnungen letzten Monat", L(period=M(2026, 10)), "foreign"),
    Case("Kontoauszug 1. Quartal 2026", Statement(Q(2026, 1)), "foreign"),
    Case("Saldo", Balance(), "foreign"),
    Case("Zahlungen März", Payments(M(2026, 3)), "foreign"),
    Case("alle Rechnungen 2025 als ZIP", A(period=Y(2025)), "foreign"),
    Case("Reklamation INV-1042 falsche Menge",
         Dispute(R("INV-1042", "INV", 1042), "falsche Menge"), "foreign"),
    Case("Rückruf bitte", TalkToPerson("Rückruf bitte"), "foreign"),
    Case("Rechnungen von Januar bis März", L(period=D("2026-01-01", "2026-03-31")), "foreign"),
    Case("Rechnung Nr. 1042", S("Nr. 1042", "", 1042), "foreign"),
    Case("Rechnungen über 1.000 €", L(min_amount=Decimal(1000), currency=EUR), "foreign"),
    Case("factures mars", L(period=M(2026, 3)), "foreign"),
    Case("factures impayées", L(statuses=UNPAID), "foreign"),
    Case("factures en retard", L(statuses=OVERDUE), "foreign"),
    Case("relevé de compte 2025", Statement(Y(2025)), "foreign"),
    Case("solde", Balance(), "foreign"),
    Case("factures du mois dernier", L(period=M(2026, 10)), "foreign"),
    Case("factures premier trimestre", L(period=Q(2026, 1)), "foreign"),
    Case("paiements", Payments(), "foreign"),
    Case("facture n° 1042", S("n° 1042", "", 1042), "foreign"),
    Case("les 3 dernières factures", L(last=3), "foreign"),
    Case("facturas marzo", L(period=M(2026, 3)), "foreign"),
    Case("facturas pendientes", L(statuses=UNPAID), "foreign"),
    Case("facturas vencidas", L(statuses=OVERDUE), "foreign"),
    Case("estado de cuenta", Statement(), "foreign"),
    Case("facturas del mes pasado", L(period=M(2026, 10)), "foreign"),
    Case("pagos 2025", Payments(Y(2025)), "foreign"),
    Case("facturas de enero a marzo", L(period=D("2026-01-01", "2026-03-31")), "foreign"),
    Case("hablar con una persona", TalkToPerson("hablar con una persona"), "foreign"),
    Case("fatture marzo", L(period=M(2026, 3)), "foreign"),
    Case("fatture scadute", L(statuses=OVERDUE), "foreign"),
    Case("fatture non pagate", L(statuses=UNPAID), "foreign"),
    Case("estratto conto", Statement(), "foreign"),
    Case("pagamenti dell'anno scorso", Payments(Y(2025)), "foreign"),
    Case("facturen maart", L(period=M(2026, 3)), "foreign"),
    Case("openstaande facturen", L(statuses=UNPAID), "foreign"),
    Case("achterstallige facturen", L(statuses=OVERDUE), "foreign"),
    Case("facturen vorige maand", L(period=M(2026, 10)), "foreign"),
    Case("betalingen", Payments(), "foreign"),
    Case("faturas março", L(period=M(2026, 3)), "foreign"),
    Case("faturas vencidas", L(statuses=OVERDUE), "foreign"),
    Case("faturas em atraso", L(statuses=OVERDUE), "foreign"),
    Case("faturas pagas 2025", L(statuses=PAID, period=Y(2025)), "foreign"),
    Case("extrato de conta", Statement(), "foreign"),
    Case("faturas do mês passado", L(period=M(2026, 10)), "foreign"),
    # typos
    Case("invocies March", L(period=M(2026, 3)), "typo"),
    Case("invoices Marhc", L(period=M(2026, 3)), "typo"),
    Case("unapid invoices", L(statuses=UNPAID), "typo"),
    Case("statment Q1", Statement(Q(2026, 1)), "typo"),
    Case("overdeu invoices", L(statuses=OVERDUE), "typo"),
    Case("Febuary invoices", L(period=M(2026, 2)), "typo"),
    Case("invoces Febuary 2025", L(period=M(2025, 2)), "typo"),
    Case("ovredue", L(statuses=OVERDUE), "typo"),
    Case("outstandng invoices", L(statuses=UNPAID), "typo"),
    Case("statemnt of acount 2025", Statement(Y(2025)), "typo"),
    Case("paymnets", Payments(), "typo"),
    Case("remittence history", Payments(), "typo"),
    Case("ballance", Balance(), "typo"),
    Case("agign report", Aging(), "typo"),
    Case("Septmber invoices", L(period=M(2026, 9)), "typo"),
    Case("invoices Decmber", L(period=M(2025, 12)), "typo"),
    Case("Janaury invoices", L(period=M(2026, 1)), "typo"),
    Case("invoices Agust", L(period=M(2026, 8)), "typo"),
    Case("invoices Novmber 2025", L(period=M(2025, 11)), "typo"),
    Case("overdue invoics", L(statuses=OVERDUE), "typo"),
    Case("unpiad", L(statuses=UNPAID), "typo"),
    Case("partialy paid invoices", L(statuses=PARTIAL), "typo"),
    Case("Rechnugen März", L(period=M(2026, 3)), "typo"),
    Case("factrues mars", L(period=M(2026, 3)), "typo"),
    Case("fatture scadtue", L(statuses=OVERDUE), "typo"),
    Case("facturas vencdas", L(statuses=OVERDUE), "typo"),
    Case("Kontoasuzug", Statement(), "typo"),
    Case("cancelld invoices", L(statuses=VOID), "typo"),
    Case("invoices last quater", L(period=Q(2026, 3)), "typo"),
    Case("statemnet Q2 2025", Statement(Q(2025, 2)), "typo"),
    Case("ovedue invoices 2025", L(statuses=OVERDUE, period=Y(2025)), "typo"),
    Case("dispte INV-1042 wrong price", Dispute(R("INV-1042", "INV", 1042), "wrong price"),
         "typo"),
    Case("aegnt please", TalkToPerson("aegnt please"), "typo"),
    Case("notifcations by email", P(channels=("email",)), "typo"),
]

QUOTE = "On Mon, 2 Mar 2026 at 10:00, Invoices <invoices@localhost> wrote:\n> invoices March\n"
OUTLOOK = ("________________________________\nFrom: Invoices <invoices@localhost>\n"
           "Sent: Monday, March 2, 2026 10:00 AM\nTo: ap@acme.example\n"
           "Subject: Invoices in March\n\nINV-2026-0301  issued 04.03.2026\n")

MAILS = [
    Mail("invoices March", f"Hi,\n\nplease send me the invoices for March.\n\nThanks,\nAnna\n\n"
         f"{QUOTE}", (L(period=M(2026, 3)),)),
    Mail("Re: your request", f"unpaid please\n\n{QUOTE}", (L(statuses=UNPAID),)),
    Mail("Statement", "Good morning,\n\ncould you send us the statement of account for Q1 "
         "2026?\n\nKind regards\nAnna Petersen\nACME Freight GmbH\n", (Statement(Q(2026, 1)),)),
    Mail("AW: Rechnungen", "Hallo zusammen,\n\nbitte senden Sie uns alle offenen Rechnungen."
         "\n\nMit freundlichen Grüßen\nAnna Petersen\n\nVon: Invoices <invoices@localhost>\n"
         "Gesendet: Montag, 2. März 2026 10:00\nBetreff: Rechnungen März\n",
         (L(statuses=UNPAID),)),
    Mail("TR: factures", "Bonjour,\n\nPourriez-vous m'envoyer les factures impayées de "
         "septembre ?\n\nCordialement,\nAnne Martin\n\n-------- Message transféré --------\n"
         "De : Invoices <invoices@localhost>\nObjet : factures mars\n",
         (L(statuses=UNPAID, period=M(2026, 9)),)),
    Mail("RE: facturas", "Hola,\n\n¿Me pueden enviar las facturas vencidas?\n\nSaludos,\n"
         "Ana García\n\nEl lun, 2 mar 2026 a las 10:00, Invoices (<invoices@localhost>) "
         "escribió:\n> facturas marzo\n", (L(statuses=OVERDUE),)),
    Mail("Estratto conto", "Buongiorno,\n\nvorrei l'estratto conto del primo trimestre 2026."
         "\n\nCordiali saluti\nAnna Rossi\n\nIl giorno lun 2 mar 2026 alle ore 10:00 Invoices "
         "<invoices@localhost> ha scritto:\n> fatture marzo\n", (Statement(Q(2026, 1)),)),
    Mail("Facturen", "Goedemorgen,\n\nKunnen jullie de openstaande facturen van vorige maand "
         "sturen?\n\nMet vriendelijke groet,\nAnna de Vries\n\nOp ma 2 mrt 2026 om 10:00 "
         "schreef Invoices <invoices@localhost>:\n> facturen maart\n",
         (L(statuses=UNPAID, period=M(2026, 10)),)),
    Mail("Faturas", "Olá,\n\npodem enviar as faturas em atraso?\n\nAtenciosamente,\nAna Silva"
         "\n\nEm seg., 2 de mar. de 2026 às 10:00, Invoices <invoices@localhost> escreveu:\n"
         "> faturas março\n", (L(statuses=OVERDUE),)),
    Mail("RE: Invoice INV-2026-0042", "Hi team,\n\nCould you please resend INV-2026-0042? We "
         f"can't find it.\n\nThank you,\nMark\n\n{OUTLOOK}",
         (S("INV-2026-0042", "INV", 2026, 42),)),
    Mail("statement", "Statement for 2025 please\n\nSent from my iPhone\n",
         (Statement(Y(2025)),)),
    Mail("A few things", "Hi,\n\n1. our current balance\n2. the payments from April\n"
         "3. a copy of INV-2026-0050\n\nThanks!\n-- \nAnna\n",
         (Balance(), Payments(M(2026, 4)), S("INV-2026-0050", "INV", 2026, 50))),
    Mail("Re: overdue", "Please list everything overdue.\n\nBest regards\nJohn\n\nThis email "
         "and any attachments are confidential and may be privileged. Invoices March 2019.\n",
         (L(statuses=OVERDUE),)),
    Mail("Re: invoices", '<div dir="ltr">Could you send the paid invoices from Q2?</div><br>'
         '<div class="gmail_quote"><div class="gmail_attr">On Mon, 2 Mar 2026 Invoices wrote:'
         "</div><blockquote>unpaid</blockquote></div>",
         (L(statuses=PAID, period=Q(2026, 2)),), html=True),
    Mail("AW: SOA", "<html><body><p>Statement of account please</p><div id=\"divRplyFwdMsg\">"
         "<b>From:</b> Invoices<br><b>Sent:</b> Monday</div><p>unpaid</p></body></html>",
         (Statement(),), html=True),
    Mail("urgent", "Hello,\n\nI have been trying to reach someone for a week. Please call me "
         "back on +44 20 7946 0000.\n\nRegards,\nTom\n",
         (TalkToPerson("Please call me back on +44 20 7946 0000."),)),
    Mail("Dispute INV-2026-0061", "Hi,\n\nwe dispute INV-2026-0061: the quantity is wrong, we "
         f"received 8 pallets, not 10.\n\nKind regards,\nAnna\n\n{QUOTE}",
         (Dispute(R("INV-2026-0061", "INV", 2026, 61),
                  "the quantity is wrong, we received 8 pallets, not 10."),)),
    Mail("alerts", "Please send my alerts to Slack as a weekly digest.\n\nThanks,\nAnna\n",
         (P(channels=("slack",), cadence=Cadence.WEEKLY),)),
    Mail("Fwd: Invoices", "Can you send these again?\n\n---------- Forwarded message ---------\n"
         "From: Invoices <invoices@localhost>\nDate: Mon, 2 Mar 2026\nSubject: Invoices in "
         "March\n\nINV-2026-0301\n", (L(),)),
    Mail("Unsubscribe", "", (P(stop=True),)),
    Mail("Re: 2025 invoices", "Hi,\ncould we get all 2025 invoices in one file for our "
         f"auditors?\nThanks a lot,\nJane\n\n{QUOTE}", (A(period=Y(2025)),)),
    Mail("", '<div>unpaid invoices over 5,000 EUR please</div><div class="gmail_signature">'
         "Anna | ACME | Invoices March</div>",
         (L(statuses=UNPAID, min_amount=Decimal(5000), currency=EUR),), html=True),
    Mail("Frage", "Guten Tag,\n\nkönnen Sie uns eine Altersstruktur der offenen Posten "
         "schicken?\n\nViele Grüße\nJan Müller\n\n-----Ursprüngliche Nachricht-----\nVon: "
         "Invoices <invoices@localhost>\n", (Aging(),)),
    Mail("Solde", "Bonjour,\nquel est notre solde actuel ?\nMerci,\nPierre\n", (Balance(),)),
    Mail("Pagos", "Buenos días,\n¿podrían enviarnos el historial de pagos de 2025?\n"
         "Un saludo,\nLuis\n", (Payments(Y(2025)),)),
    Mail("facturen", "Hallo,\nGraag alle facturen van januari tot en met maart 2026.\n"
         "Groeten,\nPiet\n", (L(period=D("2026-01-01", "2026-03-31")),)),
    Mail("Archivio", "Salve,\npotete mandarmi tutte le fatture del 2025 in un unico file?\n"
         "Grazie,\nMarco\n", (A(period=Y(2025)),)),
    Mail("Extrato", "Bom dia,\nPreciso do extrato de conta do último trimestre.\nObrigado,\n"
         "João\n", (Statement(Q(2026, 3)),)),
    Mail("invocies", "Hi, can you send the unapid invocies from Febuary?\n\nCheers\nTom\n",
         (L(statuses=UNPAID, period=M(2026, 2)),)),
    Mail("Re: invoices March", "Und bitte auch die Zahlungen seit Januar.\n\nAm Mo., 2. März "
         "2026 um 10:00 Uhr schrieb Invoices <invoices@localhost>:\n> Rechnungen\n",
         (L(period=M(2026, 3)), Payments(D("2026-01-01", "2026-11-21")))),
    Mail("PO 4500123", "Hello,\nWhich invoices were billed against PO 4500123?\nBest,\nKaren\n",
         (L(po_number="4500123"),)),
    Mail("Re: open items", "Please send the open items for Acme Freight GmbH.\n\nKind regards"
         "\n", (L(statuses=UNPAID, entity="Acme Freight GmbH"),)),
    Mail("Thanks", "Thank you for the quick help!\n\nBest regards\nAnna\n",
         (Thanks(),)),
    Mail("overdue", "overdue invoices please\n--\nAnna Petersen | Accounts Payable\n"
         "ACME Freight GmbH - statement Q1 available on request\n", (L(statuses=OVERDUE),)),
]


def message(mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = mail.subject
    msg.set_content(mail.body, subtype="html" if mail.html else "plain")
    return msg


@pytest.mark.parametrize("case", LINES, ids=[case.text for case in LINES])
def test_line(case: Case) -> None:
    assert parse(case.text, TODAY) == case.expected


@pytest.mark.parametrize("mail", MAILS, ids=[f"{n}:{m.subject}" for n, m in enumerate(MAILS)])
def test_email(mail: Mail) -> None:
    text = "\n".join(request_lines(message(mail)))
    assert parse_request(text, TODAY) == list(mail.expected)


def test_the_table_is_as_big_as_promised() -> None:
    kinds = [case.kind for case in LINES]
    assert len(LINES) + len(MAILS) >= 200
    assert kinds.count("foreign") >= 40
    assert kinds.count("typo") >= 30
    assert len(MAILS) >= 30
    assert len({case.text for case in LINES}) == len(LINES)  # no case counted twice
