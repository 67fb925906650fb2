"""An invoice as a source states it, before it is stored: every source builds these.

Money rules (one place, so the PDF, the bot and the import agree):
- line amount = quantity × unit price, rounded half-up to the cent;
- tax is computed per rate on the sum of that rate's line amounts, rounded half-up
  (the same as summing unrounded per-line taxes, then rounding once per rate);
- total = subtotal + tax total.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from vault.vocabulary import Source

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
# Stored precision of quantity/unit price (4) and tax rate (3): the hash uses the same.
_Q4 = Decimal("0.0001")
_Q3 = Decimal("0.001")
HASH_VERSION = "v1"


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineDraft:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal = Decimal(0)

    @property
    def amount(self) -> Decimal:
        return to_cents(self.quantity * self.unit_price)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    taxes: dict[Decimal, Decimal]  # rate (percent) -> tax at that rate
    tax_total: Decimal
    total: Decimal


def compute_totals(lines: tuple[LineDraft, ...]) -> Totals:
    net_by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        net_by_rate[line.tax_rate] += line.amount
    taxes = {rate: to_cents(net * rate / _HUNDRED) for rate, net in sorted(net_by_rate.items())}
    subtotal = sum(net_by_rate.values(), Decimal(0))
    tax_total = sum(taxes.values(), Decimal(0))
    return Totals(to_cents(subtotal), taxes, to_cents(tax_total), to_cents(subtotal + tax_total))


@dataclass(frozen=True)
class InvoiceDraft:
    """Header and lines (in order) of one invoice. `account` is the external account_id;
    `source_lines` are the file lines it came from (for error messages; may be empty; the
    API gives the item's index in its batch)."""

    account: str
    number: str
    issue_date: date
    due_date: date
    currency: str
    lines: tuple[LineDraft, ...]
    entity: str = ""
    po_number: str = ""
    file_status: str = ""
    source_lines: tuple[int, ...] = ()
    # Where it comes from, and that source's own id for it (None: matched by number only).
    # Not part of the content hash: the same invoice from another source is the same.
    source: Source = Source.CSV
    external_id: str | None = None

    def totals(self) -> Totals:
        return compute_totals(self.lines)

    def content_hash(self) -> str:
        """SHA-256 of the normalized content: equal for an unchanged re-import."""
        header = [
            HASH_VERSION, self.account, self.number, self.issue_date.isoformat(),
            self.due_date.isoformat(), self.currency, self.entity, self.po_number,
            self.file_status,
        ]
        lines = [
            [line.description, str(line.quantity.quantize(_Q4)),
             str(line.unit_price.quantize(_Q4)), str(line.tax_rate.quantize(_Q3))]
            for line in self.lines
        ]
        payload = json.dumps([header, lines], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()
