"""The AR escalation digest: what the bot could not or should not handle alone.

Every morning at ar.digest_at (seller's time zone), ar.recipients get one email (and,
with ar.slack_channel, one Slack post) listing the escalations since the last digest:
each with the account, who, what happened, when, and what AR can do. An empty digest is
not sent. Kinds in ar.escalate_at_once also go out as soon as they are seen.

Items show what the Escalation row holds: an address and a summary written by the code
that escalated. Only a verified contact's own words appear (a request for a person, a
request not understood); never what an unverified sender wrote, and never a link token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from notifier import outbox
from notifier.alerts import AlertContext
from notifier.digests import last_period
from notifier.message import Outgoing, Section, mail_from
from vault import report
from vault.i18n import SOURCE_LANGUAGE, Catalogue, catalogue
from vault.models import Account, Contact, Digest, DigestItem, Escalation, OutboxMessage
from vault.vocabulary import Channel, DigestState, EscalationKind, OutboxKind

AR = "ar"
# A digest stays readable under a mail flood: at most PER_SENDER items from one sender and
# MAX_ITEMS in all are listed one by one; the rest are counted per sender ("and 997 more
# from x@y"), for at most MAX_SENDER_LINES senders.
PER_SENDER = 5
MAX_ITEMS = 50
MAX_SENDER_LINES = 20
AT_ONCE_WINDOW = timedelta(days=2)  # how far back "at once" looks for unsent items
LOOK_BACK = timedelta(days=1)
SUMMARY_WEEK = timedelta(days=7)  # the digest's summary line covers the week up to it


@dataclass(frozen=True)
class Item:
    """One escalation as AR reads it."""

    kind: str
    what: str
    account: str
    who: str
    when: str
    summary: str
    action: str

    def section(self, words: Catalogue) -> Section:
        _ = words.gettext
        return Section(heading=f"{self.what} - {self.account}", details=(
            _("who: {who}").format(who=self.who), _("when: {when}").format(when=self.when),
            _("details: {details}").format(details=self.summary),
            _("what you can do: {action}").format(action=self.action)))


def ar_words(ctx: AlertContext) -> Catalogue:
    """AR reads in the seller's language (seller.locale), not a contact's."""
    return catalogue(ctx.config.seller.locale, "messages")


async def items_of(escalations: list[Escalation], ctx: AlertContext) -> list[Item]:
    contact_ids = {e.contact_id for e in escalations} - {None}
    contacts = {c.id: c for c in await Contact.filter(id__in=contact_ids)}
    account_ids = {e.account_id for e in escalations} | {c.account_id for c in contacts.values()}
    accounts = {a.id: a for a in await Account.filter(id__in=account_ids - {None})}
    zone, _ = ctx.config.seller.timezone, ar_words(ctx).gettext
    found = []
    for esc in escalations:
        what, action = EscalationKind(esc.kind).label, EscalationKind(esc.kind).action
        contact = contacts.get(esc.contact_id or 0)
        account = accounts.get(esc.account_id or (contact.account_id if contact else 0))
        who = contact.email if contact else (esc.address or _("unknown"))
        if contact and esc.address and esc.address.lower() != contact.email:
            who = _("{email} (at {address})").format(email=who, address=esc.address)  # chat id
        found.append(Item(
            kind=esc.kind, what=what, who=who, summary=esc.summary or "-", action=action,
            account=f"{account.name} ({account.account_id})" if account else _("no account"),
            when=esc.at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        ))
    return found


def sections_of(items: list[Item], words: Catalogue | None = None) -> tuple[Section, ...]:
    """The items in order, capped per sender and in all; the rest counted per sender."""
    words = words or catalogue(SOURCE_LANGUAGE, "messages")
    listed: list[Item] = []
    per_sender: dict[str, int] = {}
    left_out: dict[str, int] = {}
    for item in items:
        seen = per_sender.get(item.who, 0)
        if seen < PER_SENDER and len(listed) < MAX_ITEMS:
            listed.append(item)
            per_sender[item.who] = seen + 1
        else:
            left_out[item.who] = left_out.get(item.who, 0) + 1
    sections = [item.section(words) for item in listed]
    if left_out:
        most = sorted(left_out.items(), key=lambda pair: -pair[1])
        lines = [words.ngettext("and {count} more from {who}", "and {count} more from {who}", n
                                ).format(count=n, who=who) for who, n in most[:MAX_SENDER_LINES]]
        rest = [n for _, n in most[MAX_SENDER_LINES:]]
        if rest:
            lines.append(words.ngettext("and {count} more from {senders} other sender",
                                        "and {count} more from {senders} other senders",
                                        len(rest)).format(count=sum(rest), senders=len(rest)))
        sections.append(Section(heading=words.gettext("Not listed one by one"),
                                notes=tuple(lines)))
    return tuple(sections)


def _message(ctx: AlertContext, key: str, channel: Channel, recipient: str, subject: str,
             items: list[Item], extra: tuple[Section, ...] = ()) -> Outgoing:
    mail, words = mail_from(ctx.config.email), ar_words(ctx)
    return Outgoing(
        kind=OutboxKind.DIGEST, channel=channel, recipient=recipient, key=key, title=subject,
        sections=sections_of(items, words) + extra,
        mail=mail if channel == Channel.EMAIL else None, language=words.language)


async def week_summary(now: datetime, words: Catalogue) -> Section:
    """The week's figures in one line (vault.report, as `invoicebot report` prints them)."""
    figures = await report.build(now - SUMMARY_WEEK)
    return Section(heading=words.gettext("The last 7 days"), text=(figures.summary_line(),))


async def _send(
    ctx: AlertContext, key: str, subject: str, items: list[Item], now: datetime,
    extra: tuple[Section, ...] = (),
) -> None:
    """One message per AR recipient, and one Slack post with ar.slack_channel: for AR,
    so no contact_id (a dead one names no contact's route)."""
    for recipient in ctx.config.ar_recipients:
        await outbox.enqueue(_message(ctx, f"{key}:{recipient}", Channel.EMAIL, recipient,
                                      subject, items, extra), now=now)
    channel = ctx.config.alerts.ar_slack_channel
    if channel:
        await outbox.enqueue(_message(ctx, f"{key}:slack", Channel.SLACK, channel, subject,
                                      items, extra), now=now)


async def ar_digest(ctx: AlertContext, now: datetime) -> int:
    """Enqueue this period's AR digest if due and not empty; returns its item count."""
    period = last_period(now, ctx.config.seller.timezone, ctx.config.alerts.ar_digest_at)
    if await Digest.exists(recipient=AR, period=period.key):
        return 0
    key = f"digest:ar:{period.key}"
    try:
        async with in_transaction():
            escalations = await _undigested(now)
            items = await items_of(escalations, ctx)
            digest = await Digest.create(
                recipient=AR, period=period.key, covers_until=now, items=len(items),
                outbox_key=key if items else "",
                state=DigestState.ENQUEUED if items else DigestState.EMPTY, created_at=now)
            await DigestItem.bulk_create(
                [DigestItem(digest_id=digest.id, escalation_id=e.id) for e in escalations])
            if items:
                words = ar_words(ctx)
                subject = words.ngettext("AR digest {day}: {count} item",
                                         "AR digest {day}: {count} items", len(items)).format(
                    day=period.moment.date().isoformat(), count=len(items))
                await _send(ctx, key, subject, items, now, (await week_summary(now, words),))
    except IntegrityError:  # another process made this period's digest
        return 0
    return len(items)


async def _undigested(now: datetime) -> list[Escalation]:
    """Open escalations no digest has listed yet. Looking back a day before the last
    digest catches rows committed after it but stamped before it (a request received at
    07:59 and handled at 08:01); DigestItem keeps each to one digest."""
    last = await Digest.filter(recipient=AR).order_by("-covers_until").first()
    query = Escalation.filter(resolved=False, at__lte=now)
    if last is not None:
        query = query.filter(at__gte=last.covers_until - LOOK_BACK)
    candidates = await query.order_by("at", "id")
    listed = {row["escalation_id"] for row in await DigestItem.filter(
        escalation_id__in=[e.id for e in candidates]).values("escalation_id")}
    return [e for e in candidates if e.id not in listed]


async def escalate_at_once(ctx: AlertContext, now: datetime) -> int:
    """Send each escalation of the ar.escalate_at_once kinds on its own, once."""
    kinds = sorted(ctx.config.alerts.escalate_at_once)
    if not kinds:
        return 0
    recent = await Escalation.filter(kind__in=kinds, at__gte=now - AT_ONCE_WINDOW,
                                     resolved=False).order_by("id")
    # Enqueueing is idempotent per key; this only saves re-composing what was sent.
    first = ctx.config.ar_recipients[0] if ctx.config.ar_recipients else "slack"
    probes = {f"ar-now:{e.id}:{first}": e for e in recent}
    done = {row["key"] for row in await OutboxMessage.filter(key__in=list(probes)).values("key")}
    fresh = [e for k, e in probes.items() if k not in done]
    for escalation in fresh:
        (item,) = await items_of([escalation], ctx)
        async with in_transaction():
            await _send(ctx, f"ar-now:{escalation.id}", f"AR: {item.what} - {item.account}",
                        [item], now)
    return len(fresh)
