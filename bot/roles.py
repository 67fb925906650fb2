"""Who may ask for what: the ONE table of intents and the lowest role allowed each.

Roles are ranked: ap < approver < manager, and a role may do everything a lower one may.
`ap` contacts see invoices, payments and balances (and archives, help, a person, their
alert settings); `approver` adds statements and aging; `manager` adds disputes.
"""

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
)
from vault.models import Role

RANK = {Role.AP: 0, Role.APPROVER: 1, Role.MANAGER: 2}

MINIMUM_ROLE: dict[type[Command], Role] = {
    ListInvoices: Role.AP,
    ShowInvoice: Role.AP,
    Balance: Role.AP,
    Payments: Role.AP,
    Archive: Role.AP,
    Help: Role.AP,
    TalkToPerson: Role.AP,
    Preferences: Role.AP,
    Statement: Role.APPROVER,
    Aging: Role.APPROVER,
    Dispute: Role.MANAGER,
}


def role_of(value: str) -> Role:
    """A contact's role; anything unknown counts as the least privileged."""
    try:
        return Role(value)
    except ValueError:
        return Role.AP


def required_role(command: type[Command] | Command) -> Role:
    kind = command if isinstance(command, type) else type(command)
    return MINIMUM_ROLE[kind]


def allows(role: str, command: type[Command] | Command) -> bool:
    return RANK[role_of(role)] >= RANK[required_role(command)]


def roles_allowed(command: type[Command] | Command) -> tuple[Role, ...]:
    """The roles that may ask for this, lowest first ("approver or manager")."""
    needed = RANK[required_role(command)]
    return tuple(role for role, rank in sorted(RANK.items(), key=lambda r: r[1])
                 if rank >= needed)
