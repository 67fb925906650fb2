"""Escalations go through one function: once per cause, no link token or chat-linking code
in the summary AR reads, and a summary of bounded length."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.test_vocabulary import modules
from vault.escalations import SUMMARY_LIMIT, escalate
from vault.models import Escalation
from vault.vocabulary import EscalationKind

ROOT = Path(__file__).parents[1]
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)
TOKEN = "IlNFQ1JFVC1UT0tFTiI.aaaa.bbbbbbbb"


async def test_an_escalation_is_written_once_per_cause(orm: str) -> None:
    first = await escalate(EscalationKind.PERSON, "email:<m1@x>:person", at=AT,
                           account_id=None, address="ap@acme.example", summary="call me")
    again = await escalate(EscalationKind.PERSON, "email:<m1@x>:person",
                           at=AT + timedelta(hours=1), summary="call me again")
    assert again.id == first.id
    stored = await Escalation.get(source_key="email:<m1@x>:person")
    assert (stored.kind, stored.summary, stored.at) == (EscalationKind.PERSON, "call me", AT)
    assert await Escalation.all().count() == 1


async def test_link_tokens_and_linking_codes_never_reach_the_summary(orm: str) -> None:
    # Codes have 8 digits (4+4 when split); 6-digit ones from before are still caught. A
    # number written 4+4 ("PO 4711 0815") reads as a code too: AR loses it, no code leaks.
    summary = (f"see https://bills.example/d/{TOKEN} and /u/{TOKEN} - my code is 12345678, "
               "or 8765 4321, or 9876-5432, or 123456, or 654 321; invoice INV-2026-0042 of "
               "2026-03-01, 1,250.00 EUR, PO 4711 0815, PO 4711-08150, total 1234 5678.90 USD, "
               "ref <12345678@mail.example>, tel 123456789. Code 24681012.")
    row = await escalate(EscalationKind.UNCLEAR, "k", at=AT, summary=summary)
    assert TOKEN not in row.summary
    for code in ("12345678,", "8765 4321", "9876-5432", "123456,", "654 321", "24681012"):
        assert code not in row.summary
    assert row.summary == (
        "see https://bills.example/d/<redacted> and /u/<redacted> - my code is <code>, "
        "or <code>, or <code>, or <code>, or <code>; invoice INV-2026-0042 of "
        "2026-03-01, 1,250.00 EUR, PO <code>, PO 4711-08150, total 1234 5678.90 USD, "
        "ref <12345678@mail.example>, tel 123456789. Code <code>.")


async def test_a_long_summary_and_address_are_cut_to_what_is_stored(orm: str) -> None:
    row = await escalate(EscalationKind.DISPUTE, "dispute:1", at=AT, address="a" * 400,
                         summary="x" * (SUMMARY_LIMIT + 500))
    stored = await Escalation.get(id=row.id)
    assert len(stored.summary) == SUMMARY_LIMIT
    assert len(stored.address) == 320


def test_no_module_but_vault_escalations_writes_escalation_rows() -> None:
    writes = {"create", "get_or_create", "update_or_create", "bulk_create"}
    found = []
    for path in modules():
        if path == ROOT / "vault" / "escalations.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr in writes
                    and isinstance(node.value, ast.Name) and node.value.id == "Escalation"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
