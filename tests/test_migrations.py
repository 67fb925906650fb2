"""Upgrading a database keeps its rows: a vault made by the previous migrations, holding
rows written as the old code wrote them (free strings, "" for an event without statuses),
is upgraded by `vault.db.migrate` and read back through the models as vocabulary members.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate as run_migrations

from tests.scratchdb import PG_URL, scratch_pg
from vault import db
from vault.models import (
    AlertPreference,
    ChatInbound,
    Contact,
    Digest,
    Escalation,
    InboundMessage,
    Invoice,
    InvoiceEvent,
    Notification,
    OutboxMessage,
)
from vault.vocabulary import (
    Cadence,
    Channel,
    DigestState,
    EscalationKind,
    EventKind,
    InboundState,
    InvoiceStatus,
    NotificationState,
    OutboxKind,
    OutboxState,
    Role,
    Source,
)

PREVIOUS = "vault.0002_attempts_and_outbox_contact"
AT = "'2026-03-01 09:00:00+00:00'"

# As the code before the vocabulary wrote them (column lists from migrations 0001-0002).
OLD_ROWS = [
    "INSERT INTO account (id, account_id, name, timezone, locale, tier, tax_id, address, "
    "slack_team_id) VALUES (1, 'ACME', 'Acme', 'UTC', 'en', 'gold', '', '', '')",
    "INSERT INTO contact (id, account_id, email, name, role, locale, timezone, active) "
    "VALUES (1, 1, 'ap@acme.example', 'Ann', 'approver', '', '', TRUE)",
    "INSERT INTO invoice (id, account_id, number, issue_date, due_date, currency, entity, "
    "po_number, subtotal, tax_total, total, amount_paid, file_status, status, content_hash, "
    f"document_id, updated_at) VALUES (1, 1, 'INV-1', '2026-03-01', '2026-03-31', 'EUR', '', "
    f"'', 100, 0, 100, 0, '', 'overdue', 'h', NULL, {AT})",
    "INSERT INTO invoice_event (id, at, kind, account_id, invoice_id, old_status, new_status, "
    f"amount, cause, key, expanded) VALUES (1, {AT}, 'invoice.issued', 1, 1, '', '', NULL, "
    "'import', NULL, TRUE)",
    "INSERT INTO invoice_event (id, at, kind, account_id, invoice_id, old_status, new_status, "
    f"amount, cause, key, expanded) VALUES (2, {AT}, 'invoice.status_changed', 1, 1, 'open', "
    "'overdue', NULL, 'sweep', NULL, FALSE)",
    "INSERT INTO alert_preference (id, contact_id, channels, events, cadence, quiet_start, "
    "quiet_end, stopped, disabled, updated_at) VALUES (1, 1, '[\"email\"]', "
    f"'[\"invoice.overdue\"]', 'daily', '', '', FALSE, '[]', {AT})",
    "INSERT INTO digest (id, recipient, period, covers_until, items, outbox_key, state, "
    f"created_at) VALUES (1, 'contact:1:email', '2026-03-01', {AT}, 0, '', 'empty', {AT})",
    "INSERT INTO notification (id, key, event_id, contact_id, channel, cadence, state, "
    "deliver_after, digest_id, created_at) VALUES (1, 'alert:2:1:email', 2, 1, 'email', "
    f"'daily', 'waiting', {AT}, NULL, {AT})",
    "INSERT INTO escalation (id, at, kind, account_id, contact_id, address, summary, "
    f"source_key, resolved) VALUES (1, {AT}, 'unlinked', NULL, NULL, 'telegram:42', "
    "'unlinked via telegram', 'telegram:7:refusal', FALSE)",
    "INSERT INTO outbox_message (id, key, channel, kind, recipient, contact_id, message_id, "
    "payload, state, attempts, next_attempt_at, lease_until, last_error, created_at, "
    "sent_at) VALUES (1, 'chat-link-code:1', 'email', 'link_code', 'ap@acme.example', NULL, "
    f"'<m1@x>', {{blob}}, 'failed', 2, {AT}, NULL, 'timeout', {AT}, NULL)",
    "INSERT INTO inbound_message (id, message_key, raw_message, peer, mail_from, rcpt_tos, "
    "received_at, state, outcome, attempts, processed_at) VALUES (1, '<in1@x>', {blob}, "
    f"'127.0.0.1', 'ap@acme.example', '[]', {AT}, 'failed', 'unprocessable', 3, {AT})",
    "INSERT INTO chat_inbound (id, key, platform, team_id, user_id, chat_id, text, "
    f"received_at, state, outcome, attempts, processed_at) VALUES (1, 'telegram:7', "
    f"'telegram', '', '42', '42', 'unpaid', {AT}, 'received', '', 0, NULL)",
]


async def _previous_schema_with_rows(url: str) -> None:
    config = db.tortoise_config(url)
    await run_migrations(config=config, target=PREVIOUS)
    conn = connections.get("default")
    blob = "X'6869'" if conn.capabilities.dialect == "sqlite" else "'\\x6869'::bytea"
    for sql in OLD_ROWS:
        await conn.execute_query(sql.replace("{blob}", blob))
    await Tortoise.close_connections()


@pytest.fixture(params=["sqlite", "postgres"])
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each engine (PostgreSQL: a scratch one, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'old.db'}"
        return
    if not PG_URL:
        pytest.skip("INVOICEBOT_TEST_DATABASE_URL is not set: no PostgreSQL to upgrade")
    with scratch_pg("invoicebot_upgrade") as url:
        yield url


@pytest.fixture
async def upgraded(old_url: str) -> AsyncIterator[None]:
    """A vault made by migrations 0001-0002 with old rows in it, upgraded and opened.

    Tortoise caches each model's SQL by connection name, not engine: as this module uses
    both engines in one session, the cache is emptied before and after.
    """
    EXECUTOR_CACHE.clear()
    await _upgrade(old_url)
    yield
    await Tortoise.close_connections()
    EXECUTOR_CACHE.clear()


async def _upgrade(url: str) -> None:
    await _previous_schema_with_rows(url)
    await db.migrate(url)
    await db.connect(url)


async def test_upgrade_keeps_ledger_and_event_rows(upgraded: None) -> None:
    contact = await Contact.get(id=1)
    assert contact.role is Role.APPROVER
    invoice = await Invoice.get(id=1)
    assert invoice.status is InvoiceStatus.OVERDUE
    assert (invoice.source, invoice.external_id) == (Source.CSV, None)  # 0004: all from CSV
    issued, changed = await InvoiceEvent.all().order_by("id")
    assert issued.kind is EventKind.ISSUED
    assert (issued.old_status, issued.new_status) == (None, None)  # was ""
    assert changed.kind is EventKind.STATUS_CHANGED
    assert (changed.old_status, changed.new_status) == (InvoiceStatus.OPEN,
                                                        InvoiceStatus.OVERDUE)
    assert await InvoiceEvent.filter(new_status=InvoiceStatus.OVERDUE).count() == 1


async def test_upgrade_keeps_alert_rows(upgraded: None) -> None:
    preference = await AlertPreference.get(id=1)
    assert preference.cadence is Cadence.DAILY
    assert preference.channels == ["email"]
    notification = await Notification.get(id=1)
    assert (notification.channel, notification.cadence, notification.state) == (
        Channel.EMAIL, Cadence.DAILY, NotificationState.WAITING)
    assert (await Digest.get(id=1)).state is DigestState.EMPTY


async def test_upgrade_keeps_messaging_rows(upgraded: None) -> None:
    escalation = await Escalation.get(id=1)
    assert escalation.kind is EscalationKind.UNLINKED
    assert escalation.summary == "unlinked via telegram"
    outbox = await OutboxMessage.get(id=1)
    assert (outbox.channel, outbox.kind, outbox.state) == (
        Channel.EMAIL, OutboxKind.LINK_CODE, OutboxState.FAILED)
    assert bytes(outbox.payload) == b"hi"
    assert (await InboundMessage.get(id=1)).state is InboundState.FAILED
    chat = await ChatInbound.get(id=1)
    assert (chat.platform, chat.state) == (Channel.TELEGRAM, InboundState.RECEIVED)


async def test_upgraded_rows_take_only_vocabulary_values(upgraded: None) -> None:
    escalation = await Escalation.get(id=1)
    escalation.kind = "not_a_kind"  # type: ignore[assignment]
    with pytest.raises(ValueError):
        await escalation.save()
