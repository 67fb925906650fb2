"""The invoice list's filters, sorting and pages, read from the query string.

Every filter becomes a vault.invoices.InvoiceQuery (so the account scope does the
reading); what cannot be read is named back to the contact, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import ImmutableMultiDict

from bot.account.strings import _
from vault.invoices import AccountScope, InvoiceQuery
from vault.models import Invoice, InvoiceStatus

PAGE_SIZE = 25
SORTS = {
    "issued_desc": ("-issue_date", "-number"), "issued": ("issue_date", "number"),
    "due": ("due_date", "number"), "due_desc": ("-due_date", "-number"),
    "amount_desc": ("-total", "number"), "amount": ("total", "number"),
    "number": ("number",),
}
DUE_PRESETS = ("", "overdue", "this_week", "next_week", "next_30")
FIELDS = ("issued_from", "issued_to", "due", "due_from", "due_to", "status", "entity", "po",
          "min", "max", "number", "sort")


@dataclass
class Filters:
    values: dict[str, str]
    query: InvoiceQuery
    number: str = ""
    sort: str = "issued_desc"
    page: int = 1
    # (the field's label as the form shows it, for the catalogue; what was typed)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def link(self, **changes: str | int) -> str:
        """This list's URL with some values changed (a page, a sort)."""
        params = {k: v for k, v in {**self.values, **changes}.items() if v not in ("", None)}
        return "?" + urlencode(params)

    @property
    def hidden(self) -> list[tuple[str, str]]:
        """The filters as hidden fields, for the ZIP form."""
        return [(k, v) for k, v in self.values.items() if v]


def _day(text: str, name: str, problems: list[tuple[str, str]]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append((name, text))
        return None


def _money(text: str, name: str, problems: list[tuple[str, str]]) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():  # "NaN" and "Infinity" are Decimals too
        problems.append((name, text))
        return None
    return value


def due_window(preset: str, today: date) -> tuple[date | None, date | None]:
    """"next_week" is next Monday to Sunday, as the bot reads "due next week"."""
    monday = today - timedelta(days=today.weekday())
    if preset == "this_week":
        return monday, monday + timedelta(days=6)
    if preset == "next_week":
        return monday + timedelta(days=7), monday + timedelta(days=13)
    if preset == "next_30":
        return today, today + timedelta(days=30)
    if preset == "overdue":
        return None, today - timedelta(days=1)
    return None, None


def read(params: ImmutableMultiDict[str, Any], today: date) -> Filters:
    """The filters of a query string (the list) or a form (the ZIP of that list)."""
    # A control character (a NUL from a crafted URL, which PostgreSQL refuses in text) is
    # nothing a form can send or an invoice can hold: dropped, like surrounding spaces.
    values = {name: _printable(str(params.get(name, ""))).strip()[:100] for name in FIELDS}
    problems: list[tuple[str, str]] = []
    due_start, due_end = due_window(values["due"], today)
    due_start = _day(values["due_from"], _("Due from"), problems) or due_start
    due_end = _day(values["due_to"], _("Due to"), problems) or due_end
    status = values["status"]
    statuses = (InvoiceStatus(status),) if status in InvoiceStatus._value2member_map_ else ()
    if values["due"] == "overdue" and not statuses:
        statuses = (InvoiceStatus.OVERDUE,)
    low = _money(values["min"], _("Amount from"), problems)
    high = _money(values["max"], _("Amount to"), problems)
    query = InvoiceQuery(
        start=_day(values["issued_from"], _("Issued from"), problems),
        end=_day(values["issued_to"], _("Issued to"), problems), statuses=statuses,
        po_number=values["po"] or None, entities=(values["entity"],) if values["entity"] else None,
        # The form's bounds include the amounts typed; the query's exclude them.
        min_total=low - Decimal("0.005") if low is not None else None,
        max_total=high + Decimal("0.005") if high is not None else None,
        due_start=due_start, due_end=due_end)
    sort = values["sort"] if values["sort"] in SORTS else "issued_desc"
    try:
        page = max(1, int(str(params.get("page", "1"))[:9]))
    except ValueError:
        page = 1
    return Filters(values, query, values["number"], sort, page, problems)


def _printable(value: str) -> str:
    return value if value.isprintable() else "".join(c for c in value if c.isprintable())


async def matching(scope: AccountScope, filters: Filters) -> list[Invoice]:
    """Every invoice of the account the filters match, sorted (for the list and the ZIP)."""
    found = await scope.search(filters.query)
    if filters.number:
        wanted = filters.number.lower()
        found = [i for i in found if wanted in i.number.lower()]
    for key in reversed(SORTS[filters.sort]):  # a stable sort per key, last key first
        found.sort(key=attrgetter(key.lstrip("-")), reverse=key.startswith("-"))
    return found


def page_of(found: list[Invoice], page: int) -> tuple[list[Invoice], int]:
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(page, pages)
    return found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], pages
