"""The command registry: one record per command decides who may ask for what, and help
and refusals follow it; every example it shows asks for what it illustrates."""

from __future__ import annotations

from typing import get_args

import pytest

from bot.answers.examples import Samples
from bot.answers.help import examples, not_allowed
from bot.commands import parse_request
from bot.intents import (
    Aging,
    AnswerIn,
    Archive,
    Balance,
    Command,
    ConnectChat,
    Dispute,
    Help,
    ListInvoices,
    Payments,
    Preferences,
    ShowInvoice,
    Statement,
    TalkToPerson,
    Thanks,
)
from bot.language.suggestions import EXAMPLES
from bot.registry import REGISTRY, Entry, entry_for
from tests.harness import TODAY
from vault.vocabulary import Role

# The AP clerk is usually the one who finds the error (Dispute).
AP_MAY = (ListInvoices, ShowInvoice, Balance, Payments, Archive, Help, TalkToPerson, Preferences,
          Dispute, Thanks, ConnectChat, AnswerIn)
# One account's values for every template field.
SAMPLES = Samples({"invoice": "INV-2026-0042", "entity": "ACME Freight GmbH", "month": "March",
                   "year": "2025", "po": "PO-7781", "amount": "5000 EUR"})


def test_every_command_of_the_language_has_exactly_one_record() -> None:
    kinds = [entry.kind for entry in REGISTRY]
    assert sorted(k.__name__ for k in kinds) == sorted(k.__name__ for k in get_args(Command))


@pytest.mark.parametrize(("role", "allowed"), [
    ("ap", set(AP_MAY)),
    ("approver", {*AP_MAY, Statement, Aging}),
    ("manager", set(get_args(Command))),
    ("someone-unknown", set(AP_MAY)),  # an unknown role gets the least
])
def test_what_each_role_may_ask(role: str, allowed: set[type[Command]]) -> None:
    assert {kind for kind in get_args(Command) if entry_for(kind).allows(Role.of(role))} == allowed


def test_roles_allowed_lists_the_minimum_and_above() -> None:
    assert [str(r) for r in entry_for(Statement).roles()] == ["approver", "manager"]
    assert [str(r) for r in entry_for(Dispute).roles()] == ["ap", "approver", "manager"]


def test_help_offers_only_what_the_role_may_ask() -> None:
    def shown(role: Role) -> tuple[str, ...]:
        return examples(REGISTRY, role, SAMPLES, TODAY, "en")

    assert "statement Q1" not in shown(Role.AP) and "aging" not in shown(Role.AP)
    assert "statement Q1" in shown(Role.APPROVER)
    assert "dispute INV-2026-0042 wrong quantity" in shown(Role.AP)
    assert "dispute INV-2026-0042 wrong quantity" in shown(Role.MANAGER)


def test_an_account_without_invoices_gets_examples_without_its_data() -> None:
    shown = examples(REGISTRY, Role.MANAGER, Samples(), TODAY, "en")
    assert "unpaid" in shown and "balance" in shown and "statement" in shown
    assert not any("{" in e or "INV" in e or "PO" in e or "zip" in e for e in shown)


def test_a_refusal_names_the_roles_that_may() -> None:
    reply = not_allowed(Role.AP, entry_for(Aging))
    assert reply.intro == ("Sorry, aging reports are available to approver or manager contacts; "
                           "you are registered as an AP contact.")


@pytest.mark.parametrize(("entry", "template"), [
    (entry, template) for entry in REGISTRY for template in entry.examples
], ids=lambda value: value if isinstance(value, str) else value.kind.__name__)
def test_every_help_example_asks_for_what_it_illustrates(entry: Entry, template: str) -> None:
    example = SAMPLES.fill(template)
    assert example is not None, f"{template!r} uses a field no account can fill"
    assert [type(c) for c in parse_request(example, TODAY, "en")] == [entry.kind]


def test_every_suggestion_can_be_filled_from_an_account() -> None:
    for template in {t for templates in EXAMPLES.values() for t in templates}:
        assert SAMPLES.fill(template) is not None, template


def test_help_offers_connecting_only_the_chats_this_service_runs() -> None:
    none = examples(REGISTRY, Role.AP, SAMPLES, TODAY, "en", chats=frozenset())
    assert not [e for e in none if e.startswith("connect")]
    telegram = examples(REGISTRY, Role.AP, SAMPLES, TODAY, "en", chats=frozenset({"telegram"}))
    assert [e for e in telegram if e.startswith("connect")] == ["connect telegram"]
