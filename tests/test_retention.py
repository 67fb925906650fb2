"""Retention: the hourly sweep deletes (or trims) what [retention] no longer keeps, and
nothing else: young rows, mail still owed an answer and messages still owed a send stay."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from notifier import outbox
from tests.harness import DATA
from vault import retention
from vault.clock import SYSTEM
from vault.config import ConfigError, RetentionConfig, load_config
from vault.ingest.csv import import_csv
from vault.models import AuditEvent, Contact, Grant, InboundMessage, OutboxMessage
from vault.vocabulary import InboundState, OutboxKind, OutboxState

NOW = datetime.fromisoformat("2026-11-21T12:00:00+00:00")
DAY = timedelta(days=1)
BIG_BODY = b"x" * 200_000


def mail(sender: str) -> bytes:
    return (f"From: {sender}\r\nTo: invoices@localhost\r\nSubject: hi\r\n"
            f"Message-ID: <{sender}>\r\n\r\n").encode() + BIG_BODY


async def inbound(key: str, age: timedelta, state: InboundState, outcome: str) -> None:
    await InboundMessage.create(message_key=key, raw_message=mail(f"{key}@x.example"),
                                peer="127.0.0.1", rcpt_tos=["invoices@localhost"],
                                received_at=NOW - age, state=state, outcome=outcome)


async def sent(key: str, age: timedelta, state: OutboxState) -> None:
    await OutboxMessage.create(key=key, kind=OutboxKind.REPLY, recipient="ap@acme.example",
                               message_id=f"<{key}>", payload=b"{}", state=state,
                               next_attempt_at=NOW - age, created_at=NOW - age)


@pytest.fixture
async def contact(orm: str) -> Contact:
    for kind in ("accounts", "contacts"):
        await import_csv(kind, DATA / f"{kind}.csv", progress=False, clock=SYSTEM)
    return await Contact.get(email="ap@acme.example")


async def test_the_sweep_deletes_what_is_due_and_nothing_else(contact: Contact) -> None:
    stranger = retention.UNKNOWN_SENDER_OUTCOME
    await inbound("old-answered", 31 * DAY, InboundState.PROCESSED, "answered")
    await inbound("young-answered", 29 * DAY, InboundState.PROCESSED, "answered")
    await inbound("old-failed", 90 * DAY, InboundState.FAILED, "")  # still owed an answer
    await inbound("old-received", 90 * DAY, InboundState.RECEIVED, "")
    await inbound("stranger-8d", 8 * DAY, InboundState.PROCESSED, stranger)
    await inbound("stranger-6d", 6 * DAY, InboundState.PROCESSED, stranger)
    await inbound("contact-8d", 8 * DAY, InboundState.PROCESSED, "answered")
    for age in (401, 399):
        await AuditEvent.create(at=NOW - age * DAY, action=f"age.{age}", data={})
    for name, expired in (("expired-31d", 31), ("expired-29d", 29), ("valid", -7)):
        await Grant.create(id=name, contact=contact, document_ids=[], created_at=NOW - 60 * DAY,
                           expires_at=NOW - expired * DAY)
    await sent("sent-31d", 31 * DAY, OutboxState.SENT)
    await sent("dead-31d", 31 * DAY, OutboxState.DEAD)
    await sent("sent-29d", 29 * DAY, OutboxState.SENT)
    await sent("pending-60d", 60 * DAY, OutboxState.PENDING)
    await sent("failed-60d", 60 * DAY, OutboxState.FAILED)

    pruned = await retention.prune(RetentionConfig(), NOW)
    assert await outbox.prune(NOW - RetentionConfig().outbox) == 2

    assert (pruned.inbound, pruned.trimmed, pruned.audit, pruned.grants) == (1, 1, 1, 1)
    left = {r.message_key: bytes(r.raw_message) for r in await InboundMessage.all()}
    assert set(left) == {"young-answered", "old-failed", "old-received", "stranger-8d",
                         "stranger-6d", "contact-8d"}
    trimmed = left["stranger-8d"]
    assert BIG_BODY not in trimmed
    assert trimmed.startswith(b"From: stranger-8d@x.example\r\n")
    assert f"message was {len(mail('stranger-8d@x.example'))} bytes".encode() in trimmed
    assert all(BIG_BODY in left[k] for k in left if k != "stranger-8d")
    assert [e.action for e in await AuditEvent.filter(action__startswith="age.")] == ["age.399"]
    assert await AuditEvent.filter(action="vault.import.completed").count() == 2  # today's
    assert {g.id for g in await Grant.all()} == {"expired-29d", "valid"}
    assert {o.key for o in await OutboxMessage.all()} == {"sent-29d", "pending-60d", "failed-60d"}

    again = await retention.prune(RetentionConfig(), NOW)  # nothing more is due
    assert (again.inbound, again.trimmed, again.audit, again.grants) == (0, 0, 0, 0)
    assert bytes((await InboundMessage.get(message_key="stranger-8d")).raw_message) == trimmed


def test_retention_is_configured_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[retention]\ninbound = "90d"\naudit = "2000d"\n')
    config = load_config(path, env={})
    assert (config.retention.inbound, config.retention.audit) == (90 * DAY, 2000 * DAY)
    assert config.retention.outbox == 30 * DAY  # the default
    path.write_text('[retention]\ninbox = "90d"\n')
    with pytest.raises(ConfigError, match=r"retention\.inbox"):
        load_config(path, env={})
    path.write_text('[retention]\naudit = "2h"\n')
    with pytest.raises(ConfigError, match=r"retention\.audit"):
        load_config(path, env={})
