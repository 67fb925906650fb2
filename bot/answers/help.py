"""Help, not-understood and not-allowed replies: examples that fit the contact's role."""

from __future__ import annotations

from bot.intents import (
    Aging,
    Archive,
    Balance,
    Command,
    Dispute,
    Help,
    ListInvoices,
    Payments,
    Preferences,
    ShowInvoice,
    Statement,
    TalkToPerson,
    Unclear,
)
from bot.messages import Reply
from bot.roles import allows, role_of, roles_allowed
from vault.models import Role

# What each intent is called in a sentence, and phrasings that ask for it.
INTENTS: dict[type[Command], tuple[str, tuple[str, ...]]] = {
    ListInvoices: ("lists of invoices", (
        "invoices March", "unpaid", "overdue invoices", "paid invoices 2025",
        "invoices over 5000 EUR", "invoices for ACME Freight GmbH", "invoices PO-7781",
        "last 3 invoices")),
    ShowInvoice: ("an invoice in detail", ("invoice INV-2026-0042",)),
    Balance: ("your balance", ("balance",)),
    Payments: ("payments", ("payments", "payments March")),
    Archive: ("archives", ("all 2025 as zip",)),
    Statement: ("statements", ("statement", "statement Q1")),
    Aging: ("aging reports", ("aging",)),
    Dispute: ("disputes", ("dispute INV-2026-0042 wrong quantity",)),
    TalkToPerson: ("talking to a person", ("talk to a person",)),
    Preferences: ("notification settings", ("my notification settings",)),
    Help: ("help", ("help",)),
}


def examples(role: str) -> tuple[str, ...]:
    return tuple(e for kind, (_, phrases) in INTENTS.items() if allows(role, kind)
                 for e in phrases)


ROLE_WORDS = {Role.AP: "AP", Role.APPROVER: "approver", Role.MANAGER: "manager"}


def _role_note(role: str) -> str:
    if role_of(role) == Role.MANAGER:
        return ""
    locked = [kind for kind in INTENTS if not allows(role, kind)]
    names = "; ".join(f"{INTENTS[k][0]} need {_a(_roles(k))} contact" for k in locked)
    return f" ({names[:1].upper()}{names[1:]}.)"


def _roles(kind: type[Command]) -> str:
    return " or ".join(ROLE_WORDS[r] for r in roles_allowed(kind))


def _a(words: str) -> str:
    return f"{'an' if words[:1] in 'aeioAEIO' else 'a'} {words}"


def help_reply(role: str, understood: bool = True, unclear: Unclear | None = None) -> Reply:
    if understood:
        intro = "Here is what you can ask for."
    else:
        first = next((ln.strip() for ln in (unclear.text if unclear else "").splitlines()
                      if ln.strip()), "")
        written = f" {first[:80]!r}" if first else ""
        intro = f"Sorry, we did not understand your request{written}. Here is what you can ask for."
    if unclear and unclear.suggestions:
        intro += " Did you mean: " + "; ".join(f'"{s}"' for s in unclear.suggestions) + "?"
    return Reply(subject="How to ask for invoices", intro=intro, notes=examples(role),
                 outro="Write one request per line, in the subject or the message."
                       + _role_note(role))


def not_allowed(role: str, command: Command) -> Reply:
    """A refused intent says which role allows it."""
    what = INTENTS[type(command)][0]
    return Reply(
        subject=f"Not available to your role: {what}",
        intro=f"Sorry, {what} are available to {_roles(type(command))} contacts; you are "
              f"registered as {_a(ROLE_WORDS[role_of(role)])} contact.",
        outro="A colleague with that role can ask for it, or write \"talk to a person\".",
    )
