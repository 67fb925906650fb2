"""Events -> notifications -> outbox rows.

expand:    each new InvoiceEvent that is news (is_news: inside notifier.alert_window) becomes
           one Notification per contact and channel that wants it, keyed
           alert:{event}:{contact}:{channel}; the event is marked expanded in the same
           transaction, and the unique key makes a second expansion a no-op.
release:   waiting instant notifications whose time has come are composed (with a fresh
           grant) and enqueued in the outbox under the same key: never twice.
reconcile: notifications whose outbox row died switch that route off for the contact.

Every step re-reads the contact's current settings, so "stop alerts" stops what waits.
On PostgreSQL rows are taken with FOR UPDATE SKIP LOCKED, so several processes can run
the same tick; on SQLite there is one instance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.transactions import in_transaction

from notifier import compose, outbox, preferences
from notifier.message import MailHeaders, Outgoing, mail_from
from notifier.unsubscribe import unsubscribe_signer, unsubscribe_url
from vault import links
from vault.answer_language import answer_language
from vault.config import Config
from vault.events import first_news_day
from vault.formats import Formats
from vault.invoices import AccountScope
from vault.models import Account, Contact, Digest, Invoice, InvoiceEvent, Notification
from vault.vocabulary import (
    Cadence,
    Channel,
    DigestState,
    EventKind,
    InvoiceStatus,
    NotificationState,
    OutboxKind,
    OutboxState,
)

EXPAND_BATCH = 200  # events per transaction
# Alerts composed per transaction (~4 ms each): on SQLite a batch holds the one write lock.
RELEASE_BATCH = 20
# A new invoice's PDF is rendered just after its import commits: wait this long for it
# before alerting without a link.
PDF_GRACE = timedelta(minutes=10)
PDF_RETRY = timedelta(minutes=1)


@dataclass(frozen=True)
class AlertContext:
    """What composing alerts needs: the config and the signer for download links."""

    config: Config
    signer: links.LinkSigner

    @property
    def quiet_default(self) -> tuple[time, time] | None:
        return self.config.alerts.default_quiet_hours

    def unsubscribe_url(self, contact: Contact) -> str:
        signer = unsubscribe_signer(self.config.secret_keys)
        return unsubscribe_url(self.config.public_url, signer, contact.id)

    def mail_headers(self, contact: Contact) -> MailHeaders:
        """An alert email's From and unsubscribe headers, for this contact."""
        return mail_from(
            self.config.email, unsubscribe_url=self.unsubscribe_url(contact),
            unsubscribe_mailto=min(self.config.email.addresses, default=""),
        )


# ---- expand -----------------------------------------------------------------------------

async def expand(ctx: AlertContext, now: datetime) -> int:
    """Expand every unexpanded event; returns how many notifications were made."""
    made = 0
    while True:
        async with in_transaction():
            batch = await InvoiceEvent.filter(expanded=False).order_by("id").limit(
                EXPAND_BATCH).select_for_update(skip_locked=True)
            if not batch:
                return made
            await InvoiceEvent.filter(id__in=[e.id for e in batch]).update(expanded=True)
            rows = await _notifications(ctx, batch, now)
            await Notification.bulk_create(rows, batch_size=500, ignore_conflicts=True)
            made += len(rows)


async def _notifications(
    ctx: AlertContext, batch: list[InvoiceEvent], now: datetime
) -> list[Notification]:
    contacts = await Contact.filter(account_id__in={e.account_id for e in batch}, active=True)
    settings = await preferences.settings_of(contacts, ctx.quiet_default)
    chats = await preferences.linked_chats([c.id for c in contacts])
    rows = []
    window, zone = ctx.config.alerts.alert_window, ctx.config.seller.timezone
    for event in batch:
        if not is_news(event, now, window, zone):
            continue  # history: recorded (statements, status history), never alerted
        for contact in (c for c in contacts if c.account_id == event.account_id
                        and c.id != event.by_contact_id):  # their own act: answered already
            wanted = settings[contact.id]
            if not wanted.wants(event.kind, event.new_status):
                continue
            linked = {Channel.EMAIL, *chats.get(contact.id, {})}
            rows += [
                Notification(key=f"alert:{event.id}:{contact.id}:{channel}", event_id=event.id,
                             contact_id=contact.id, channel=channel, cadence=wanted.cadence,
                             state=NotificationState.WAITING, deliver_after=now,
                             created_at=now)
                for channel in wanted.routes(linked)
            ]
    return rows


def is_news(event: InvoiceEvent, now: datetime, window: timedelta, zone: ZoneInfo) -> bool:
    """The alert window, the one rule for every source: an event is alerted only if what it
    tells happened within `window` of now. An invoice issued, a payment paid or a status
    moved by a payment or a due date earlier than that is history (a loaded backlog, a
    sync), whenever it is recorded; an event without such a day happened when recorded.
    Days are the seller's (`zone`)."""
    if event.happened_on is None:
        return event.at >= now - window
    return event.happened_on >= first_news_day(now, window, zone)


# ---- release ----------------------------------------------------------------------------

def _nothing() -> None:
    return None


@dataclass
class Recipient:
    """One contact as alerts need them, read once per batch."""

    contact: Contact
    account: Account
    settings: preferences.Settings
    chats: dict[str, str]

    @property
    def fmt(self) -> Formats:
        zone = preferences.contact_zone(self.contact, self.account)
        # The contact's answer language (their choice, else the locales): no request here.
        return Formats.of(self.contact.locale or self.account.locale, zone.key,
                          language=answer_language(self.contact, self.account))

    def address(self, channel: str) -> str | None:
        """Where this channel's messages go now, or None if the route is gone."""
        linked = {Channel.EMAIL, *self.chats}
        if channel not in self.settings.routes(linked):
            return None
        return self.contact.email if channel == Channel.EMAIL else self.chats[channel]


async def recipients(ctx: AlertContext, contact_ids: set[int]) -> dict[int, Recipient]:
    contacts = await Contact.filter(id__in=contact_ids)
    accounts = {a.id: a for a in await Account.filter(id__in={c.account_id for c in contacts})}
    settings = await preferences.settings_of(contacts, ctx.quiet_default)
    chats = await preferences.linked_chats([c.id for c in contacts])
    return {c.id: Recipient(c, accounts[c.account_id], settings[c.id], chats.get(c.id, {}))
            for c in contacts}


async def release(ctx: AlertContext, now: datetime,
                  wake: Callable[[], None] = _nothing) -> int:
    """Enqueue every instant notification that is due; returns how many were enqueued.
    `wake` is called after each committed batch, so delivery starts on a burst at once."""
    enqueued = 0
    while True:
        async with in_transaction():
            batch = await Notification.filter(
                state=NotificationState.WAITING, cadence=Cadence.INSTANT,
                deliver_after__lte=now
            ).order_by("id").limit(RELEASE_BATCH).select_for_update(skip_locked=True)
            if not batch:
                return enqueued
            who = await recipients(ctx, {n.contact_id for n in batch})
            found = await _events_and_invoices([n.event_id for n in batch])
            ready: dict[int, Outgoing] = {}
            for notification in batch:
                event, invoice = found[notification.event_id]
                message = await _release_one(ctx, notification, who[notification.contact_id],
                                             event, invoice, now)
                if message is not None:
                    ready[notification.id] = message
            # One insert for the batch; a key already queued is skipped, never sent twice.
            await outbox.enqueue_many(ready.values(), now=now)
            await Notification.filter(id__in=list(ready)).update(
                state=NotificationState.ENQUEUED)
            enqueued += len(ready)
        if ready:
            wake()


async def _events_and_invoices(event_ids: list[int]) -> dict[int, tuple[InvoiceEvent, Invoice]]:
    found = {e.id: e for e in await InvoiceEvent.filter(id__in=event_ids)}
    invoice_ids = {e.invoice_id for e in found.values()}
    invoices = {i.id: i for i in await Invoice.filter(id__in=invoice_ids)}
    return {pk: (event, invoices[event.invoice_id]) for pk, event in found.items()}


async def _release_one(
    ctx: AlertContext, notification: Notification, who: Recipient, event: InvoiceEvent,
    invoice: Invoice, now: datetime,
) -> Outgoing | None:
    """The alert to queue now, or None (cancelled, or held until later)."""
    address = who.address(notification.channel)
    if address is None or not who.contact.active or not still_news(event, invoice, who):
        await _set(notification, state=NotificationState.CANCELLED)
        return None
    zone = preferences.contact_zone(who.contact, who.account)
    later = preferences.quiet_until(now, zone, who.settings.quiet)
    if later is None and invoice.document_id is None and now - event.at < PDF_GRACE:
        later = now + PDF_RETRY
    if later is not None:
        await _set(notification, deliver_after=later)
        return None
    alert = compose.alert_for(event, invoice, who.fmt, await document_link(ctx, who, invoice, now))
    return outgoing(ctx, notification.key, notification.channel, OutboxKind.ALERT, who,
                    address, alert.headline, [alert])


def still_news(event: InvoiceEvent, invoice: Invoice, who: Recipient) -> bool:
    """Still wanted, and not overtaken: a due-soon reminder for a paid invoice is not."""
    if not who.settings.wants(event.kind, event.new_status):
        return False
    return event.kind != EventKind.DUE_SOON or invoice.status in (InvoiceStatus.OPEN,
                                                                  InvoiceStatus.PARTIALLY_PAID)


async def _set(notification: Notification, **changes: Any) -> None:
    await Notification.filter(id=notification.id).update(**changes)


async def document_link(ctx: AlertContext, who: Recipient, invoice: Invoice,
                        now: datetime) -> compose.DocumentLink | None:
    """A grant to this contact for the invoice's PDF, signed (None before it exists)."""
    if invoice.document_id is None:
        return None
    scope = AccountScope(contact=who.contact, account=who.account)
    documents = await scope.documents([invoice.document_id])
    if not documents:
        return None
    grant = await links.grant(scope, documents, invoice.number, ctx.config.link_ttl, now)
    url = links.link_url(ctx.config.public_url, ctx.signer, grant)
    label = who.fmt.words.gettext("Invoice {number} (PDF)").format(number=invoice.number)
    return compose.DocumentLink(label, url, who.fmt.moment(grant.expires_at))


def outgoing(ctx: AlertContext, key: str, channel: str, kind: OutboxKind, who: Recipient,
             address: str, subject: str, alerts: list[compose.Alert]) -> Outgoing:
    """An alert or digest for the outbox; email opens with a line on whose account."""
    email, fmt = channel == Channel.EMAIL, who.fmt
    intro = fmt.words.gettext("An update from {seller} on your account {account}:").format(
        seller=ctx.config.seller.name, account=who.account.name)
    return compose.alert_message(
        key=key, kind=kind, channel=Channel(channel), recipient=address,
        contact_id=who.contact.id, title=subject, intro=intro if email else "", alerts=alerts,
        mail=ctx.mail_headers(who.contact) if email else None, language=fmt.language)


# ---- reconcile ----------------------------------------------------------------------------

# Joins the ORM cannot express; constants only (built from the vocabulary's values, which
# are plain words), so the same text runs on SQLite and PG. An outbox row's final state
# (sent, dead) is the notification's and the digest's too.
_DONE = f"o.state IN ('{OutboxState.SENT}', '{OutboxState.DEAD}')"
_ALERT_OUTCOMES = (
    "SELECT n.id AS id, n.contact_id AS contact_id, n.channel AS channel, o.state AS state, "
    "o.attempts AS attempts, o.last_error AS last_error FROM notification n "
    "JOIN outbox_message o ON o.key = n.key "
    f"WHERE n.state = '{NotificationState.ENQUEUED}' AND {_DONE} ORDER BY n.id LIMIT 500"
)
_DIGEST_OUTCOMES = (
    "SELECT d.id AS id, d.recipient AS recipient, o.state AS state, o.attempts AS attempts, "
    "o.last_error AS last_error FROM digest d JOIN outbox_message o ON o.key = d.outbox_key "
    f"WHERE d.state = '{DigestState.ENQUEUED}' AND {_DONE} ORDER BY d.id LIMIT 500"
)


async def reconcile(ctx: AlertContext, now: datetime) -> int:
    """Settle enqueued alerts and digests whose outbox row is done; a permanent failure
    switches that route off for the contact. Returns how many routes were switched off."""
    switched = 0
    db = connections.get("default")
    while rows := await db.execute_query_dict(_ALERT_OUTCOMES):
        for row in rows:
            await Notification.filter(id=row["id"]).update(
                state=NotificationState(row["state"]))
            switched += await _after(ctx, row, int(row["contact_id"]), str(row["channel"]), now)
    while rows := await db.execute_query_dict(_DIGEST_OUTCOMES):
        for row in rows:
            await Digest.filter(id=row["id"]).update(state=DigestState(row["state"]))
            kind, _, route = str(row["recipient"]).partition(":")  # contact:{id}:{channel}
            contact_id, _, channel = route.partition(":")
            if kind == "contact" and contact_id.isdigit():
                switched += await _after(ctx, row, int(contact_id), channel, now)
    return switched


async def _after(
    ctx: AlertContext, row: dict[str, Any], contact_id: int, channel: str, now: datetime
) -> int:
    if row["state"] != OutboxState.DEAD or not is_permanent(int(row["attempts"])):
        return 0
    return int(await preferences.disable_route(contact_id, channel, str(row["last_error"]),
                                               ctx.quiet_default, now))


def is_permanent(attempts: int) -> bool:
    """Dead before running out of attempts means the remote said "never" (a 5xx, a bot
    blocked, a channel gone); dead after all of them may be an outage, not the route."""
    return attempts < outbox.MAX_ATTEMPTS
