"""Roles: one table decides who may ask for what; help and refusals follow it."""

from __future__ import annotations

from typing import get_args

import pytest

from bot.answers.help import INTENTS, examples, help_reply, not_allowed
from bot.commands import parse_request
from bot.intents import (
    Aging,
    Archive,
    Balance,
    Command,
    Dispute,
    Help,
    InvoiceRef,
    ListInvoices,
    Payments,
    Preferences,
    ShowInvoice,
    Statement,
    TalkToPerson,
)
from bot.roles import MINIMUM_ROLE, allows, roles_allowed
from tests.harness import TODAY

AP_MAY = (ListInvoices, ShowInvoice, Balance, Payments, Archive, Help, TalkToPerson, Preferences)


def test_every_command_of_the_language_has_a_minimum_role() -> None:
    assert set(MINIMUM_ROLE) == set(get_args(Command))


@pytest.mark.parametrize(("role", "allowed"), [
    ("ap", set(AP_MAY)),
    ("approver", {*AP_MAY, Statement, Aging}),
    ("manager", set(get_args(Command))),
    ("someone-unknown", set(AP_MAY)),  # an unknown role gets the least
])
def test_what_each_role_may_ask(role: str, allowed: set[type[Command]]) -> None:
    assert {kind for kind in get_args(Command) if allows(role, kind)} == allowed


def test_roles_allowed_lists_the_minimum_and_above() -> None:
    assert [str(r) for r in roles_allowed(Statement)] == ["approver", "manager"]
    assert [str(r) for r in roles_allowed(Dispute)] == ["manager"]


def test_help_offers_only_what_the_role_may_ask() -> None:
    assert "statement Q1" not in examples("ap") and "aging" not in examples("ap")
    assert "statement Q1" in examples("approver")
    assert not any(e.startswith("dispute") for e in examples("approver"))
    assert any(e.startswith("dispute") for e in examples("manager"))
    assert "Disputes need a manager contact" in help_reply("approver").outro
    assert "need" not in help_reply("manager").outro


def test_a_refusal_names_the_roles_that_may() -> None:
    reply = not_allowed("ap", Dispute(InvoiceRef("INV-1", "INV", (1,)), ""))
    assert reply.intro == ("Sorry, disputes are available to manager contacts; you are "
                           "registered as an AP contact.")


@pytest.mark.parametrize(("kind", "example"), [
    (kind, example) for kind, (_, phrases) in INTENTS.items() for example in phrases
], ids=lambda value: value if isinstance(value, str) else value.__name__)
def test_every_help_example_asks_for_what_it_illustrates(
    kind: type[Command], example: str
) -> None:
    assert [type(c) for c in parse_request(example, TODAY, "en")] == [kind]
