"""The command language's rules, each shown on its own (the bulk is in test_phrasings.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.commands import parse, parse_request
from bot.intents import (
    OVERDUE,
    UNPAID,
    Balance,
    Dispute,
    Filters,
    Help,
    InvoiceRef,
    ListInvoices,
    Period,
    ShowInvoice,
    Statement,
    Unclear,
)
from vault.models import InvoiceStatus

TODAY = date(2026, 11, 21)
MARCH_2026 = Period(date(2026, 3, 1), date(2026, 3, 31))


def listing(**filters: object) -> ListInvoices:
    return ListInvoices(Filters(**filters))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invoices March", listing(period=MARCH_2026)),
        ("Invoices MARCH", listing(period=MARCH_2026)),
        ("invoices mar", listing(period=MARCH_2026)),
        ("invoices 2026-03", listing(period=MARCH_2026)),
        ("invoices 03/2026", listing(period=MARCH_2026)),
        ("March 2025", listing(period=Period.month(2025, 3))),
        # the latest December not in the future is last year's; this month is this year's
        ("invoices December", listing(period=Period.month(2025, 12))),
        ("invoices November", listing(period=Period.month(2026, 11))),
        ("invoice INV-1042", ShowInvoice(InvoiceRef("INV-1042", "INV", (1042,)))),
        ("Can you resend INV-2026-0042?",
         ShowInvoice(InvoiceRef("INV-2026-0042", "INV", (2026, 42)))),
        ("inv 1042", ShowInvoice(InvoiceRef("inv 1042", "INV", (1042,)))),
        ("unpaid", listing(statuses=UNPAID)),
        ("overdue", listing(statuses=OVERDUE)),
        ("paid invoices March", listing(period=MARCH_2026, statuses=(InvoiceStatus.PAID,))),
        ("help", Help()),
        ("Help?", Help()),
        ("invoices", ListInvoices()),
    ],
)
def test_parse(text: str, expected: object) -> None:
    assert parse(text, TODAY) == expected


@pytest.mark.parametrize("text", ["", "   ", "hello there", "Mayday", "13/2026 x", "asdf qwer"])
def test_not_understood_is_unclear_never_an_error(text: str) -> None:
    assert isinstance(parse(text, TODAY), Unclear)


def test_impossible_month_is_not_a_period() -> None:
    assert parse("invoices 2026-13", TODAY) == ListInvoices()


@pytest.mark.parametrize("text", ["link ap@acme.example", "unlink", "123456", " 654321 ",
                                  "/link ap@acme.example"])
def test_chat_linking_phrases_are_left_to_the_channels(text: str) -> None:
    assert parse(text, TODAY) == Unclear(text)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (1, Period(date(2025, 1, 1), date(2025, 12, 31))),
        (4, Period(date(2024, 4, 1), date(2025, 3, 31))),  # named by the year it ends in
        (10, Period(date(2024, 10, 1), date(2025, 9, 30))),
    ],
)
def test_fiscal_year_follows_the_configured_start_month(start: int, expected: Period) -> None:
    assert parse("invoices FY2025", TODAY, fiscal_year_start=start) == listing(period=expected)


def test_this_fiscal_year_contains_today() -> None:
    assert parse("statement this fiscal year", TODAY, fiscal_year_start=4) == Statement(
        Period(date(2026, 4, 1), date(2027, 3, 31)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("may I have the invoices", ListInvoices()),  # "may" the verb
        ("invoices for May", listing(period=Period.month(2026, 5))),
        ("May invoices", listing(period=Period.month(2026, 5))),
        ("may 2025", listing(period=Period.month(2025, 5))),
        ("invoices 1 may", listing(period=Period(date(2026, 5, 1), date(2026, 5, 1)))),
        ("fatture ago 2025", listing(period=Period.month(2025, 8))),  # Italian August
    ],
)
def test_weak_month_words_need_a_period_context(text: str, expected: object) -> None:
    assert parse(text, TODAY) == expected


def test_ago_is_not_august() -> None:
    result = parse("invoices from 2 weeks ago", TODAY)
    assert not isinstance(result, ListInvoices) or result.filters.period is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invoices 2025", listing(period=Period.year(2025))),  # a year after a plural
        ("invoice 15 March", listing(period=Period(date(2026, 3, 15), date(2026, 3, 15)))),
        ("statement Q1 2025", Statement(Period(date(2025, 1, 1), date(2025, 3, 31)))),
        ("invoices over 2025", listing(min_amount=Decimal(2025))),
        ("invoices IN 2025", listing(period=Period.year(2025))),  # not an "IN" number
        ("Mar 25", listing(period=Period.month(2025, 3))),  # month and two-digit year
    ],
)
def test_years_days_and_amounts_are_not_invoice_numbers(text: str, expected: object) -> None:
    assert parse(text, TODAY) == expected


def test_what_we_owe_is_the_balance_but_owed_invoices_are_a_listing() -> None:
    assert parse("what do we still owe?", TODAY) == Balance()
    assert parse("which invoices do we still owe?", TODAY) == listing(statuses=UNPAID)
    assert parse("what do we owe for March", TODAY) == listing(period=MARCH_2026,
                                                               statuses=UNPAID)


def test_dispute_without_a_number_is_unclear_with_an_example() -> None:
    unclear = parse("we want to dispute the last invoice", TODAY)
    assert isinstance(unclear, Unclear)
    # A template: the reply fills in the contact's own latest invoice number.
    assert "dispute {invoice} wrong quantity" in unclear.suggestions


def test_wrong_amount_on_a_numbered_invoice_is_a_dispute() -> None:
    assert parse("INV-1042: the amount is wrong", TODAY) == Dispute(
        InvoiceRef("INV-1042", "INV", (1042,)), "the amount is wrong")


def test_near_miss_is_unclear_with_suggestions() -> None:
    unclear = parse("invxxxces", TODAY)  # three letters off: not corrected, but close
    assert isinstance(unclear, Unclear)
    assert "invoices March" in unclear.suggestions


@pytest.mark.parametrize("text", ["the amounts don't match", "sorry for the late reply",
                                  "Our office is closed in December", "Julia here",
                                  "I will send the offer later", "as we said on the phone",
                                  "Can you open the link again?", "We paid it yesterday",
                                  "Sorry for the late payment", "The invoice looks fine.",
                                  "Mark as paid please"])
def test_everyday_sentences_are_not_commands(text: str) -> None:
    assert isinstance(parse(text, TODAY), Unclear)


def test_several_numbers_on_one_line_are_several_requests() -> None:
    assert parse_request("please resend invoices 1042, 1043 and 1044", TODAY) == [
        ShowInvoice(InvoiceRef(text, "", (int(text),))) for text in ("1042", "1043", "1044")
    ]


def test_a_message_gives_each_request_once_without_greetings_or_thanks() -> None:
    message = ("Invoices March\nHi Anna,\nplease send the invoices for March.\n"
               "Also the statement for Q1.\nThanks a lot!\nBest regards")
    assert parse_request(message, TODAY) == [
        listing(period=MARCH_2026), Statement(Period(date(2026, 1, 1), date(2026, 3, 31)))]


def test_sentences_on_one_line_are_read_one_by_one() -> None:
    line = "Thanks for the quick reply. Could you send me the unpaid invoices? And the balance."
    assert parse_request(line, TODAY) == [listing(statuses=UNPAID), Balance()]


def test_a_bare_invoices_subject_yields_to_the_precise_body() -> None:
    assert parse_request("Invoices\nunpaid invoices please", TODAY) == [
        listing(statuses=UNPAID)]


def test_nothing_understood_is_one_unclear_for_the_whole_message() -> None:
    message = "Hello,\nhow are you?\nregards"
    assert parse_request(message, TODAY) == [Unclear(message)]


@pytest.mark.parametrize(("text", "platform"), [
    ("connect telegram", "telegram"),
    ("Link my Slack account please", "slack"),
    ("set up slack", "slack"),
    ("Telegram verbinden", "telegram"),  # de
    ("Slack verknüpfen", "slack"),
    ("connecter Telegram", "telegram"),  # fr
    ("lier mon compte Slack", "slack"),
    ("conectar telegram", "telegram"),  # es, pt
    ("vincular Slack", "slack"),
    ("collegare Telegram", "telegram"),  # it
    ("Slack koppelen", "slack"),  # nl
    ("ligar o telegram", "telegram"),  # pt
])
def test_asking_to_connect_a_chat_in_seven_languages(text: str, platform: str) -> None:
    from bot.intents import ConnectChat

    assert parse(text, TODAY) == ConnectChat(platform)


@pytest.mark.parametrize("text", ["telegram", "link ap@acme.example", "12345678",
                                  "invoices March", "slack invoices", "1234 5678"])
def test_other_lines_do_not_ask_to_connect_a_chat(text: str) -> None:
    from bot.intents import ConnectChat

    assert not isinstance(parse(text, TODAY), ConnectChat)
