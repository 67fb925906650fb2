"""The schema migrates and the ORM stores money as Decimal on both databases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from vault.models import Account, Invoice


async def test_money_round_trips_as_decimal(orm: str) -> None:
    account = await Account.create(account_id="ACME", name="Acme")
    await Invoice.create(
        account=account, number="INV-1", issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31),
        currency="EUR", subtotal=Decimal("0.10"), tax_total=Decimal("0.20"),
        total=Decimal("0.30"), content_hash="x",
    )
    stored = await Invoice.get(number="INV-1")
    assert stored.total == Decimal("0.30")
    assert stored.subtotal + stored.tax_total == stored.total
