"""One vocabulary: every kind and state has its one home in vault.vocabulary, the models
accept nothing else, and no other module spells the words out again.

The source scan reads every module of bot/, vault/ and notifier/ (but the vocabulary and
the migrations, which must freeze the words as they were) and fails on:
  - a string literal that is an event kind ("invoice.issued", "invoice.overdue" ...);
  - an escalation kind written as a kind: kind="dispute", {"kind": "bounce"}, or a row's
    .kind compared with one (esc.kind == "unlinked");
  - a dict literal of status labels ({"open": "open", "partially_paid": "partially paid"}
    or keyed by InvoiceStatus members).
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vault.models import (
    Account,
    Contact,
    Escalation,
    InboundMessage,
    InvoiceEvent,
    Notification,
    OutboxMessage,
)
from vault.vocabulary import AlertEvent, EscalationKind, EventKind, InvoiceStatus

ROOT = Path(__file__).parents[1]
PACKAGES = ("bot", "vault", "notifier")
EXEMPT = (ROOT / "vault" / "vocabulary", ROOT / "vault" / "migrations")
EVENT_WORDS = {e.value for e in EventKind} | {e.value for e in AlertEvent}
ESCALATION_WORDS = {k.value for k in EscalationKind}
STATUS_WORDS = {s.value for s in InvoiceStatus}
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


# ---- the scanner --------------------------------------------------------------------------

def copies(source: str) -> list[str]:
    """Each copy of a vocabulary word in this source, as "line: what"."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        for what in _copies_in(node):
            found.append(f"{getattr(node, 'lineno', 0)}: {what}")
    return found


def _copies_in(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and node.value in EVENT_WORDS:
        return [f"event kind {node.value!r}"]
    if isinstance(node, ast.keyword) and node.arg == "kind" and _word(node.value):
        return [f"escalation kind kind={_word(node.value)!r}"]
    if isinstance(node, ast.Dict):
        return _dict_copies(node)
    if isinstance(node, ast.Compare) and _is_kind(node.left):
        return [f"escalation kind compared: {w!r}"
                for right in node.comparators for w in _words(right)]
    return []


def _dict_copies(node: ast.Dict) -> list[str]:
    found = [f'escalation kind "kind": {_word(value)!r}'
             for key, value in zip(node.keys, node.values, strict=True)
             if isinstance(key, ast.Constant) and key.value == "kind" and _word(value)]
    keys = [key for key in node.keys if key is not None]
    if len(keys) >= 2 and all(_is_status(k) for k in keys) and all(
        isinstance(v, ast.Constant) and isinstance(v.value, str) for v in node.values
    ):
        found.append("a status-label dict")
    return found


def _word(node: ast.expr) -> str:
    """The escalation kind this expression spells out, or ""."""
    if isinstance(node, ast.Constant) and node.value in ESCALATION_WORDS:
        return str(node.value)
    return ""


def _words(node: ast.expr) -> list[str]:
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [w for item in items if (w := _word(item))]


def _is_kind(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "kind"


def _is_status(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in STATUS_WORDS
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "InvoiceStatus")


def modules() -> list[Path]:
    return sorted(
        path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
        if not any(path.is_relative_to(exempt) for exempt in EXEMPT)
    )


def test_no_module_spells_out_the_vocabulary() -> None:
    found = [f"{path.relative_to(ROOT)}:{copy}" for path in modules()
             for copy in copies(path.read_text())]
    assert found == []


def test_the_scan_reads_the_modules_that_use_the_vocabulary() -> None:
    scanned = {path.relative_to(ROOT).as_posix() for path in modules()}
    assert {"vault/events.py", "notifier/preferences.py", "bot/intents.py",
            "notifier/ar_digest.py", "vault/history.py"} <= scanned
    assert not any(p.startswith(("vault/vocabulary/", "vault/migrations/")) for p in scanned)


@pytest.mark.parametrize("planted", [
    'ISSUED = "invoice.issued"',
    'OVERDUE, DUE_SOON = "invoice.overdue", "invoice.due_soon"',
    'KINDS = {"payment.received": "payments received"}',
    'await Escalation.get_or_create(source_key=key, defaults={"kind": "dispute"})',
    'await Escalation.create(at=now, kind="unlinked", source_key=key)',
    'if esc.kind == "wrong_workspace":\n    pass',
    'wanted = [e for e in rows if e.kind in ("bounce", "person")]',
    'LABELS = {"open": "open", "partially_paid": "partially paid", "paid": "paid"}',
    'WORDS = {InvoiceStatus.OPEN: "open", InvoiceStatus.PAID: "paid"}',
])
def test_the_scan_catches_a_planted_copy(planted: str) -> None:
    assert copies(planted), planted


@pytest.mark.parametrize("clean", [
    "kind = EventKind.ISSUED",
    "await escalate(EscalationKind.DISPUTE, key, at=now)",
    'await import_csv(kind="invoices", path=path)',  # a CSV kind, not an escalation
    'if point.kind == "year":\n    pass',
    'COMMAND = "dispute"',  # the word itself, not used as a kind
    '"""Alerts about invoice.issued events."""',  # prose that mentions a kind
    'COUNTS = {"open": 1, "paid": 2}',  # keyed by status, but not labels
    'STATUS = {"open": "open"}',  # one entry is not a table of labels
])
def test_the_scan_passes_what_only_resembles_a_copy(clean: str) -> None:
    assert copies(clean) == []


# ---- the labels next to each member --------------------------------------------------------

@pytest.mark.parametrize("kind", list(EscalationKind))
def test_every_escalation_kind_has_an_ar_label_and_an_action(kind: EscalationKind) -> None:
    assert kind.label.strip() and kind.action.strip()
    assert kind.label != kind.value.replace("_", " ").capitalize()  # not a made-up label


def test_each_status_and_alert_event_has_a_label() -> None:
    assert all(status.label.strip() for status in InvoiceStatus)
    assert all(event.label.strip() and event.short.strip() for event in AlertEvent)
    assert {e.value for e in EventKind} <= {e.value for e in AlertEvent}


# ---- the database holds only the vocabulary ---------------------------------------------

async def test_a_model_refuses_a_kind_or_state_not_in_the_vocabulary(orm: str) -> None:
    account = await Account.create(account_id="ACME", name="Acme")
    contact = await Contact.create(account=account, email="ap@acme.example")
    with pytest.raises(ValueError):
        await Escalation.create(at=AT, kind="gossip", source_key="x")
    with pytest.raises(ValueError):
        await OutboxMessage.create(key="k", kind="reply", state="lost", recipient="a@b.example",
                                   message_id="m", payload=b"", next_attempt_at=AT,
                                   created_at=AT)
    with pytest.raises(ValueError):
        await OutboxMessage.create(key="k", channel="fax", kind="reply",
                                   recipient="a@b.example", message_id="m", payload=b"",
                                   next_attempt_at=AT, created_at=AT)
    with pytest.raises(ValueError):
        await InboundMessage.create(message_key="m", raw_message=b"", peer="p", rcpt_tos=[],
                                    received_at=AT, state="half-done")
    with pytest.raises(ValueError):
        contact.role = "owner"  # type: ignore[assignment]
        await contact.save()
    assert not await Escalation.exists() and not await OutboxMessage.exists()
    assert not await InboundMessage.exists() and not await InvoiceEvent.exists()
    assert not await Notification.exists()
    assert (await Contact.get(id=contact.id)).role == "ap"


async def test_a_filter_on_a_value_not_in_the_vocabulary_fails_loudly(orm: str) -> None:
    """A misspelt state in a query is an error, not a query that finds nothing."""
    with pytest.raises(ValueError):
        await OutboxMessage.filter(state="pendng").count()
