"""Due dates as filters: how people ask what is due, and the exact command each gives.

Every case runs against today = 2026-11-21, a Saturday: "this week" is 16-22 November,
"next week" 23-29 November, "December" is December 2026 (a due date's month without a
year is the nearest one), "the 15th" is 15 December. Without a status word a due filter
asks for unpaid invoices (what is paid is no longer due); "due" with no period is every
unpaid invoice, soonest due first (Due()). The last cases are near misses that must stay
what they were: "due to", "past due", Dutch "vervallen" alone (overdue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from bot.commands import parse
from bot.intents import (
    OVERDUE,
    UNPAID,
    Archive,
    Command,
    Due,
    Filters,
    ListInvoices,
    Period,
    Unclear,
)
from vault.models import InvoiceStatus

TODAY = date(2026, 11, 21)
THIS_WEEK = Due(date(2026, 11, 16), date(2026, 11, 22))
NEXT_WEEK = Due(date(2026, 11, 23), date(2026, 11, 29))
THIS_MONTH = Due(date(2026, 11, 1), date(2026, 11, 30))
DECEMBER = Due(date(2026, 12, 1), date(2026, 12, 31))
OCTOBER = Due(date(2026, 10, 1), date(2026, 10, 31))
NEXT_30_DAYS = Due(date(2026, 11, 21), date(2026, 12, 20))
BEFORE_15TH = Due(None, date(2026, 12, 14))
BY_15TH = Due(None, date(2026, 12, 15))
SOONEST = Due()


def L(due: Due | None = None, statuses: tuple[InvoiceStatus, ...] = UNPAID,
      **filters: object) -> ListInvoices:
    return ListInvoices(Filters(due=due, statuses=statuses, **filters))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    text: str
    expected: Command | Unclear
    language: str = "en"
    typo: bool = False


CASES = [
    # English
    Case("invoices due this week", L(THIS_WEEK)),
    Case("what is due next week?", L(NEXT_WEEK)),
    Case("what is due in December?", L(DECEMBER)),
    Case("what falls due in December", L(DECEMBER)),
    Case("invoices due before the 15th", L(BEFORE_15TH)),
    Case("invoices due by the 15th", L(BY_15TH)),
    Case("invoices due in the next 30 days", L(NEXT_30_DAYS)),
    Case("due within 2 weeks", L(Due(date(2026, 11, 21), date(2026, 12, 4)))),
    Case("what's due", L(SOONEST)),
    Case("invoices due", L(SOONEST)),
    Case("due today", L(Due(TODAY, TODAY))),
    Case("invoices due tomorrow", L(Due(date(2026, 11, 22), date(2026, 11, 22)))),
    Case("due by the end of the month", L(Due(None, date(2026, 11, 30)))),
    Case("unpaid invoices due next month", L(DECEMBER)),
    Case("paid invoices due in October", L(OCTOBER, (InvoiceStatus.PAID,))),
    Case("overdue invoices due in October", L(OCTOBER, OVERDUE)),
    Case("invoices for ACME Logistics due next week", L(NEXT_WEEK, entity="ACME Logistics")),
    Case("invoices over 1000 EUR due in December",
         L(DECEMBER, min_amount=Decimal(1000), currency="EUR")),
    Case("invoices due in Q1", L(Due(date(2027, 1, 1), date(2027, 3, 31)))),
    Case("invoices due after 15 December", L(Due(date(2026, 12, 16), None))),
    Case("invoices due between 1 December and 15 December",
         L(Due(date(2026, 12, 1), date(2026, 12, 15)))),
    Case("how much is due this month", L(THIS_MONTH)),
    Case("all invoices due in December as zip", Archive(Filters(due=DECEMBER, statuses=UNPAID))),
    Case("invoices from October due in November",
         L(THIS_MONTH, period=Period.month(2026, 10))),
    # German
    Case("fällige Rechnungen", L(SOONEST), "de"),
    Case("Rechnungen fällig im Dezember", L(DECEMBER), "de"),
    Case("was ist diese Woche fällig?", L(THIS_WEEK), "de"),
    Case("Rechnungen, die nächste Woche fällig werden", L(NEXT_WEEK), "de"),
    Case("Rechnungen fällig bis zum 15.", L(BY_15TH), "de"),
    Case("in den nächsten 30 Tagen fällige Rechnungen", L(NEXT_30_DAYS), "de"),
    Case("Rechnungen fällig zwischen 1. Dezember und 15. Dezember",
         L(Due(date(2026, 12, 1), date(2026, 12, 15))), "de"),
    # French
    Case("factures à échéance en décembre", L(DECEMBER), "fr"),
    Case("quelles factures arrivent à échéance cette semaine ?", L(THIS_WEEK), "fr"),
    Case("factures à échéance avant le 15", L(BEFORE_15TH), "fr"),
    Case("échéances du mois prochain", L(DECEMBER), "fr"),
    # Spanish
    Case("facturas que vencen esta semana", L(THIS_WEEK), "es"),
    Case("¿qué vence en diciembre?", L(DECEMBER), "es"),
    Case("facturas con vencimiento la próxima semana", L(NEXT_WEEK), "es"),
    Case("vencimientos de este mes", L(THIS_MONTH), "es"),
    # Italian
    Case("fatture in scadenza a dicembre", L(DECEMBER), "it"),
    Case("cosa scade questa settimana?", L(THIS_WEEK), "it"),
    Case("fatture in scadenza entro 30 giorni", L(NEXT_30_DAYS), "it"),
    Case("fatture che scadono il mese prossimo", L(DECEMBER), "it"),
    # Dutch
    Case("facturen die deze week vervallen", L(THIS_WEEK), "nl"),
    Case("wat vervalt in december?", L(DECEMBER), "nl"),
    Case("facturen met vervaldatum volgende week", L(NEXT_WEEK), "nl"),
    # Portuguese
    Case("faturas que vencem esta semana", L(THIS_WEEK), "pt"),
    Case("faturas com vencimento em dezembro", L(DECEMBER), "pt"),
    Case("o que vence na próxima semana?", L(NEXT_WEEK), "pt"),
    Case("faturas a vencer nos próximos 30 dias", L(NEXT_30_DAYS), "pt"),
    Case("vencimentos do próximo mês", L(DECEMBER), "pt"),
    # Typos
    Case("invoices due in Decmber", L(DECEMBER), typo=True),
    Case("Rechnungen fälig im Dezember", L(DECEMBER), "de", typo=True),
    Case("factures à échance en décembre", L(DECEMBER), "fr", typo=True),
    Case("facturas que vencen esta smana", L(THIS_WEEK), "es", typo=True),
    Case("fatture in scadnza a dicembre", L(DECEMBER), "it", typo=True),
    Case("facturen met vervaldaturn in december", L(DECEMBER), "nl", typo=True),
    Case("faturas com vencimeto em dezembro", L(DECEMBER), "pt", typo=True),
    Case("invocies due this week", L(THIS_WEEK), typo=True),
    Case("what falls due in Novmber", L(THIS_MONTH), typo=True),
    # Not due dates
    Case("due to the holidays please send the invoices for March",
         ListInvoices(Filters(period=Period.month(2026, 3)))),
    Case("past due invoices", ListInvoices(Filters(statuses=OVERDUE))),
    Case("vervallen facturen", ListInvoices(Filters(statuses=OVERDUE)), "nl"),
    Case("how much is due", parse("balance", TODAY)),
    Case("Hi, this is the accounts payable team, please send the March invoices",
         ListInvoices(Filters(period=Period.month(2026, 3)))),
    Case("Our payment run is scheduled, the échéance is respected",
         Unclear("Our payment run is scheduled, the échéance is respected"), "fr"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.text for case in CASES])
def test_due_phrasing(case: Case) -> None:
    assert parse(case.text, TODAY) == case.expected


def test_the_table_covers_seven_languages_and_typos() -> None:
    assert len(CASES) >= 40
    languages = {case.language for case in CASES}
    assert languages == {"en", "de", "fr", "es", "it", "nl", "pt"}
    assert sum(case.typo for case in CASES) >= 7
    assert len({case.text for case in CASES}) == len(CASES)
