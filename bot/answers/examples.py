"""Example phrasings filled from the asking contact's own account.

Help, not-understood and not-allowed replies show how to ask, and an example is most
useful (and only safe) when it names the contact's own data: their latest invoice number,
one of their billing entities, a month they have invoices in. Examples are written as
templates with these fields, and everything that fills them is read through the contact's
AccountScope, so no other account's number, entity or PO can appear. A template whose
field the account has no value for (no invoices, no PO, one entity only) is left out.

Fields: {invoice} the latest invoice number; {entity} a billing entity (only when the
account has several); {month} a month of the latest invoice ("March", or "March 2025"
when the bare name would mean another year); {year} its year; {po} a PO phrase
("PO-7781" or "PO 4500123"); {amount} a round amount under their usual invoice total,
in their usual currency ("1000 EUR").
"""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from statistics import median_low

from babel.dates import get_month_names

from vault.invoices import AccountScope
from vault.models import Invoice

RECENT = 50  # invoices looked at for a PO and a typical amount: enough, and cheap
_FIELDS = string.Formatter()


@dataclass(frozen=True)
class Samples:
    """Values from one account to fill example templates with; absent ones are omitted."""

    values: dict[str, str] = field(default_factory=dict)

    def fill(self, template: str) -> str | None:
        """The template with this account's values, or None if it needs one it lacks."""
        names = {name for _, name, _, _ in _FIELDS.parse(template) if name is not None}
        if not names <= self.values.keys():
            return None
        return template.format_map(self.values)


async def samples_of(scope: AccountScope, today: date, language: str = "en") -> Samples:
    """Example values from the contact's own account (read only through its scope); the
    month named in `language` (the help is in it, and the parser reads every language)."""
    recent = await scope.recent(RECENT)
    if not recent:
        return Samples()
    latest = recent[0]
    values = {"invoice": latest.number, "year": str(latest.issue_date.year),
              "month": _month(latest.issue_date, today, language)}
    entities = await scope.entity_names()
    if len(entities) > 1:
        values["entity"] = latest.entity or entities[0]
    po = next((i.po_number for i in recent if i.po_number), "")
    if po:
        values["po"] = po if po[:2].upper() == "PO" else f"PO {po}"
    amount = _round_amount(recent, _usual_currency(recent))
    if amount:
        values["amount"] = amount
    return Samples(values)


def _month(day: date, today: date, language: str) -> str:
    """The month's name, with its year unless the bare name already means it (a bare
    month is the latest one that has started by today)."""
    name = str(get_month_names("wide", "stand-alone", locale=language)[day.month])
    start = day.replace(day=1)
    if start <= today < start.replace(year=start.year + 1):
        return name
    return f"{name} {day.year}"


def _usual_currency(invoices: list[Invoice]) -> str:
    """The currency most of their recent invoices are in (the newest one's on a tie)."""
    return Counter(i.currency for i in invoices).most_common(1)[0][0]


def _round_amount(invoices: list[Invoice], currency: str) -> str:
    """A round figure just under the typical total in this currency ("1000 EUR"): a
    listing of invoices over it is worth asking for. Empty when it would be under 1."""
    totals = [Decimal(i.total) for i in invoices if i.currency == currency and i.total >= 1]
    if not totals:
        return ""
    typical = median_low(totals)
    step = Decimal(10) ** (len(str(int(typical))) - 1)
    rounded = (typical / step).to_integral_value(ROUND_FLOOR) * step
    return f"{int(rounded)} {currency}"
