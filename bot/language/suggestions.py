"""Example phrasings an Unclear answer offers when part of the request was close.

They are templates: {invoice}, {entity}, {po} and {amount} are filled from the asking
contact's own account when the reply is made (bot.answers.examples), and a suggestion
the account has no value for is left out. The parser knows no account, so it never
names an invoice, entity or PO itself.
"""

from __future__ import annotations

EXAMPLES: dict[str, tuple[str, ...]] = {
    "invoices": ("invoices March", "unpaid invoices", "invoice {invoice}"),
    "month": ("invoices March", "invoices March 2025"),
    "period": ("invoices last month", "invoices Q1 2026"),
    "status": ("unpaid invoices", "overdue invoices"),
    "statement": ("statement Q1", "statement of account 2025"),
    "balance": ("balance", "what do we owe"),
    "aging": ("aging report",),
    "payments": ("payments March",),
    "archive": ("all 2025 invoices as zip",),
    "dispute": ("dispute {invoice} wrong quantity",),
    "talk": ("talk to a person",),
    "alerts": ("notify me on telegram", "daily digest", "stop alerts"),
    "amount": ("invoices over {amount}",),
    "po": ("invoices {po}",),
    "entity": ("invoices from {entity}",),
}
MAX_SUGGESTIONS = 4


def suggestions_for(concepts: set[str]) -> tuple[str, ...]:
    """A few example phrasings for the concepts the request came close to."""
    found: list[str] = []
    for concept in sorted(concepts):
        for example in EXAMPLES.get(concept, ()):
            if example not in found:
                found.append(example)
    return tuple(found[:MAX_SUGGESTIONS])
