"""Invoice numbers written loosely, resolved inside one account and never guessed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from vault.invoices import AccountScope
from vault.models import Account, Contact, Invoice
from vault.numbers import canonical, digit_groups, letter_prefix, resolve


async def invoice(account: Account, number: str) -> None:
    await Invoice.create(account=account, number=number, issue_date=date(2026, 3, 1),
                         due_date=date(2026, 3, 31), currency="EUR", subtotal=Decimal(1),
                         tax_total=Decimal(0), total=Decimal(1), content_hash="x")


@pytest.fixture
async def scope(orm: str) -> AccountScope:
    acme = await Account.create(account_id="ACME", name="Acme")
    other = await Account.create(account_id="OTHER", name="Other")
    for number in ("INV-2026-0042", "INV-2025-0042", "INV-2026-0107", "CN-2026-0042",
                   "INV-2026-1042"):
        await invoice(acme, number)
    for number in ("INV-2026-0043", "INV-2026-0999"):
        await invoice(other, number)
    return await AccountScope.for_contact(await Contact.create(account=acme, email="a@acme.x"))


def test_digit_groups_ignore_leading_zeros() -> None:
    assert digit_groups("INV-2026-0042") == digit_groups("inv 2026 42") == (2026, 42)
    assert letter_prefix("inv-2026-42") == "INV" and letter_prefix("#42") == ""
    assert canonical("INV", (2026, 42)) == "INV-2026-42"


@pytest.mark.parametrize(("text", "prefix", "digits", "number"), [
    ("INV-2026-0042", "INV", (2026, 42), "INV-2026-0042"),  # exactly as stored
    ("inv 2026 42", "INV", (2026, 42), "INV-2026-0042"),  # spaces, no zeros
    ("INV-2026-1042", "INV", (2026, 1042), "INV-2026-1042"),
    ("#107", "", (107,), "INV-2026-0107"),  # a short number, unambiguous in this account
    ("#1042", "", (1042,), "INV-2026-1042"),
])
async def test_one_match_is_the_invoice(
    scope: AccountScope, text: str, prefix: str, digits: tuple[int, ...], number: str
) -> None:
    found = await resolve(scope, text, prefix, digits)
    assert found.invoice is not None and found.invoice.number == number


async def test_several_matches_are_candidates_never_a_guess(scope: AccountScope) -> None:
    found = await resolve(scope, "#42", "", (42,))
    assert found.invoice is None
    assert found.candidates == ("INV-2026-0042", "INV-2025-0042", "CN-2026-0042")


async def test_the_prefix_written_picks_among_same_digits(scope: AccountScope) -> None:
    found = await resolve(scope, "CN 2026 42", "CN", (2026, 42))
    assert found.invoice is not None and found.invoice.number == "CN-2026-0042"


async def test_a_typo_gets_this_accounts_near_numbers_only(scope: AccountScope) -> None:
    # INV-2026-0043 exists, but in another account: it is neither found nor suggested.
    found = await resolve(scope, "INV-2026-0043", "INV", (2026, 43))
    assert (found.invoice, found.candidates) == (None, ())
    assert found.near == ("INV-2026-0042",)
    swapped = await resolve(scope, "INV-2026-0170", "INV", (2026, 170))  # 107 with 0 and 7 swapped
    assert swapped.near == ("INV-2026-0107",)


async def test_another_accounts_exact_number_is_simply_not_there(scope: AccountScope) -> None:
    found = await resolve(scope, "INV-2026-0999", "INV", (2026, 999))
    assert (found.invoice, found.candidates, found.near) == (None, (), ())
