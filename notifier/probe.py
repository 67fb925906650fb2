"""`invoicebot notify test`: a test alert on each of a contact's channels, sent now.

Each test message is an outbox row like any other (so a failure is audited, and a dead
one reaches AR), but it is delivered at once by the given senders and the outcome is
reported. A channel without a sender here (chat, when the CLI has no chat client) stays
queued for the running service.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier import compose, outbox, preferences
from notifier.alerts import AlertContext, Recipient, recipients
from notifier.delivery import DeliveryError, Sender
from vault.config_alerts import WEEKDAYS
from vault.models import Contact, OutboxMessage
from vault.vocabulary import Channel, OutboxKind

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class ProbeResult:
    channel: str
    address: str
    failed: bool  # refused or not delivered; False for delivered or left queued
    detail: str

    def line(self) -> str:
        label = Channel(self.channel).label
        return f"{label} {self.address}: {self.detail}"


async def send_test_alerts(
    ctx: AlertContext, contact: Contact, senders: Mapping[str, Sender], now: datetime
) -> list[ProbeResult]:
    """One test alert per linked channel (email always), whatever the settings say, so an
    operator can check a route before switching alerts to it."""
    who = (await recipients(ctx, {contact.id}))[contact.id]
    fmt, seller = who.fmt, ctx.config.seller.name
    _ = fmt.words.gettext
    alert = compose.Alert(
        _("Test alert from {seller}").format(seller=seller),
        (_("This is a test: invoice alerts can reach you here."),
         _("Your settings: {settings}").format(settings="; ".join(_settings(ctx, who)))),
    )
    outcomes = []
    routes = {Channel.EMAIL.value: contact.email, **who.chats}
    for channel, address in routes.items():
        message = compose.alert_message(
            key=f"test:{contact.id}:{channel}:{secrets.token_hex(6)}", kind=OutboxKind.TEST,
            channel=Channel(channel), recipient=address, contact_id=contact.id,
            title=alert.headline, intro=_("A test message from {seller}:").format(seller=seller),
            alerts=[alert], mail=ctx.mail_headers(contact), language=fmt.language)
        row = await outbox.enqueue(message, now=now)
        outcomes.append(await _deliver(senders.get(channel), row, now))
    return outcomes


def _settings(ctx: AlertContext, who: Recipient) -> list[str]:
    alerts = ctx.config.alerts
    zone = preferences.contact_zone(who.contact, who.account).key
    return preferences.describe(who.settings, {Channel.EMAIL, *who.chats}, zone,
                                alerts.digest_time, WEEKDAYS[alerts.digest_weekday],
                                who.fmt.words)


async def _deliver(sender: Sender | None, row: OutboxMessage, now: datetime) -> ProbeResult:
    def outcome(failed: bool, detail: str) -> ProbeResult:
        return ProbeResult(row.channel, row.recipient, failed, detail)

    if sender is None:
        return outcome(False, "queued: the running service delivers it")
    if not await outbox.try_claim(row, LEASE, now):
        return outcome(False, "queued: the running service took it")
    try:
        await sender.send(row.recipient, bytes(row.payload))
    except DeliveryError as exc:
        await outbox.mark_failed(row, str(exc), exc.permanent, now)
        if exc.permanent:
            return outcome(True, f"refused, will not retry (AR is told): {exc}")
        return outcome(True, f"not delivered yet, will retry: {exc}")
    await outbox.mark_sent(row, now)
    return outcome(False, f"delivered (Message-ID <{row.message_id}>)")
