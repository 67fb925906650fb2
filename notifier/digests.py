"""Contacts' daily and weekly digests.

A digest goes out at notifier.digest_time in the contact's time zone (weekly: on
notifier.digest_weekday) and holds every waiting notification made before that moment.
It is one Digest row per (recipient, period), created in the same transaction that marks
its items digested and enqueues it, so a tick that runs twice, or runs in two processes,
sends one digest. A tick that comes late (the service was down at 08:00) still sends the
period's digest: a period is the last digest moment at or before now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from notifier import compose, outbox, preferences
from notifier.alerts import (
    AlertContext,
    Recipient,
    document_link,
    outgoing,
    recipients,
    still_news,
)
from vault.models import Digest, Invoice, InvoiceEvent, Notification
from vault.vocabulary import Cadence, DigestState, NotificationState, OutboxKind

DIGEST_CADENCES = (Cadence.DAILY, Cadence.WEEKLY)


@dataclass(frozen=True)
class Period:
    key: str  # 2026-11-23 (daily) or 2026-W48 (weekly)
    moment: datetime  # when it went due (aware)


def last_period(now: datetime, zone: ZoneInfo, at: time, weekday: int | None = None) -> Period:
    """The latest digest moment at or before `now`: daily at `at`, or weekly on `weekday`."""
    local = now.astimezone(zone)
    back = 0 if weekday is None else (local.weekday() - weekday) % 7
    day = local.date() - timedelta(days=back)
    moment = datetime.combine(day, at, tzinfo=zone)
    if moment > local:
        day -= timedelta(days=1 if weekday is None else 7)
        moment = datetime.combine(day, at, tzinfo=zone)
    if weekday is None:
        return Period(day.isoformat(), moment)
    year, week, _ = day.isocalendar()
    return Period(f"{year}-W{week:02d}", moment)


async def contact_digests(ctx: AlertContext, now: datetime) -> int:
    """Send each due contact digest; returns how many were enqueued."""
    pairs = await Notification.filter(
        state=NotificationState.WAITING, cadence__in=DIGEST_CADENCES
    ).distinct().values_list("contact_id", "channel")
    if not pairs:
        return 0
    who = await recipients(ctx, {int(contact) for contact, _ in pairs})
    sent = 0
    for contact_id, channel in sorted(pairs):
        if contact_id in who:
            sent += await _digest(ctx, who[contact_id], str(channel), now)
    return sent


def period_for(ctx: AlertContext, who: Recipient, now: datetime) -> Period:
    alerts = ctx.config.alerts
    weekday = alerts.digest_weekday if who.settings.cadence == Cadence.WEEKLY else None
    zone = preferences.contact_zone(who.contact, who.account)
    return last_period(now, zone, alerts.digest_time, weekday)


async def _digest(ctx: AlertContext, who: Recipient, channel: str, now: datetime) -> int:
    period = period_for(ctx, who, now)
    recipient = f"contact:{who.contact.id}:{channel}"
    key = f"digest:{recipient}:{period.key}"
    try:
        async with in_transaction():
            items = await Notification.filter(
                contact_id=who.contact.id, channel=channel, state=NotificationState.WAITING,
                cadence__in=DIGEST_CADENCES, created_at__lt=period.moment,
            ).order_by("id").select_for_update(skip_locked=True)
            if not items:
                return 0
            digest = await Digest.create(recipient=recipient, period=period.key,
                                         covers_until=period.moment, outbox_key=key,
                                         created_at=now)
            alerts = await _alerts(ctx, who, channel, items, digest, now)
            if not alerts:
                await Digest.filter(id=digest.id).update(state=DigestState.EMPTY)
                return 0
            await Digest.filter(id=digest.id).update(items=len(alerts))
            message = outgoing(ctx, key, channel, OutboxKind.DIGEST, who, _address(who, channel),
                               _subject(who, period, len(alerts)), alerts)
            await outbox.enqueue_many([message], now=now)
    except IntegrityError:  # this period's digest exists: another tick or process sent it
        return 0
    return 1


async def _alerts(ctx: AlertContext, who: Recipient, channel: str, items: list[Notification],
                  digest: Digest, now: datetime) -> list[compose.Alert]:
    """Each item still wanted as an alert; the rest are cancelled. One link per invoice."""
    found = {e.id: e for e in await InvoiceEvent.filter(id__in=[n.event_id for n in items])}
    invoices = {i.id: i for i in await Invoice.filter(
        id__in={e.invoice_id for e in found.values()})}
    links: dict[int, compose.DocumentLink | None] = {}
    alerts: list[compose.Alert] = []
    usable = who.address(channel) is not None and who.contact.active
    for item in items:
        event = found[item.event_id]
        invoice = invoices[event.invoice_id]
        if not usable or not still_news(event, invoice, who):
            await Notification.filter(id=item.id).update(state=NotificationState.CANCELLED)
            continue
        if invoice.id not in links:
            links[invoice.id] = await document_link(ctx, who, invoice, now)
        alerts.append(compose.alert_for(event, invoice, who.fmt, links[invoice.id]))
        await Notification.filter(id=item.id).update(state=NotificationState.DIGESTED,
                                                     digest_id=digest.id)
    return alerts


def _address(who: Recipient, channel: str) -> str:
    address = who.address(channel)
    assert address is not None  # checked by _alerts, in the same transaction
    return address


def _subject(who: Recipient, period: Period, count: int) -> str:
    words, day = who.fmt.words, who.fmt.day(period.moment.date())
    if who.settings.cadence == Cadence.WEEKLY:
        return words.ngettext("Your weekly invoice digest for {day}: {count} update",
                              "Your weekly invoice digest for {day}: {count} updates",
                              count).format(day=day, count=count)
    return words.ngettext("Your daily invoice digest for {day}: {count} update",
                          "Your daily invoice digest for {day}: {count} updates",
                          count).format(day=day, count=count)
