"""Each contact's alert settings: channels, events, cadence, quiet hours, stop.

A contact without a stored row gets the defaults of the account's tier, so new contacts
are alerted sensibly without anyone setting anything. The first change stores a row.
A route (contact, channel) that failed permanently is switched off (`disabled`) until the
contact chooses that channel again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from tortoise.transactions import in_transaction

from notifier.words import channel_label, event_label
from vault import audit
from vault.config_alerts import WEEKDAYS
from vault.formats import Formats
from vault.i18n import SOURCE_LANGUAGE, Catalogue, catalogue
from vault.models import Account, AlertPreference, ChatLink, Contact, Notification
from vault.vocabulary import AlertEvent, Cadence, Channel, EventKind, InvoiceStatus
from vault.vocabulary import NotificationState as State

_Word = TypeVar("_Word", bound=StrEnum)
_EVERYDAY = (AlertEvent.ISSUED, AlertEvent.STATUS_CHANGED, AlertEvent.DUE_SOON)


@dataclass(frozen=True)
class Settings:
    channels: tuple[Channel, ...]
    events: tuple[AlertEvent, ...]
    cadence: Cadence
    quiet: tuple[time, time] | None = None
    stopped: bool = False
    disabled: tuple[Channel, ...] = ()  # routes switched off after a permanent failure
    stored: bool = False  # False: the tier's defaults

    def wants(self, kind: EventKind, new_status: InvoiceStatus | None = None) -> bool:
        """Does this contact want events of `kind`? "overdue" is a status change too."""
        if AlertEvent(kind) in self.events:
            return True
        return (kind == EventKind.STATUS_CHANGED and new_status == InvoiceStatus.OVERDUE
                and AlertEvent.OVERDUE in self.events)

    def routes(self, linked: set[str]) -> tuple[Channel, ...]:
        """The channels alerts go to now: chosen, linked, not switched off, not stopped."""
        if self.stopped:
            return ()
        return tuple(c for c in self.channels if c in linked and c not in self.disabled)


# Defaults by account tier: big accounts get many invoices, so a morning digest.
TIER_DEFAULTS: dict[str, Settings] = {
    "standard": Settings((Channel.EMAIL,), _EVERYDAY, Cadence.INSTANT),
    "gold": Settings((Channel.EMAIL,), _EVERYDAY, Cadence.DAILY),
    "enterprise": Settings((Channel.EMAIL,), _EVERYDAY, Cadence.DAILY),
}


@dataclass(frozen=True)
class Change:
    """A change to a contact's settings; None leaves a setting as it is (mirrors
    bot.intents.PreferenceChange, which the bot converts)."""

    channels: tuple[Channel, ...] | None = None
    cadence: Cadence | None = None
    events: tuple[AlertEvent, ...] | None = None
    quiet_hours: tuple[time, time] | None = None
    no_quiet_hours: bool = False
    stop: bool = False
    resume: bool = False


@dataclass(frozen=True)
class Applied:
    settings: Settings
    not_linked: tuple[Channel, ...] = ()  # channels asked for that the contact has not linked


def defaults(tier: str, quiet: tuple[time, time] | None) -> Settings:
    return replace(TIER_DEFAULTS.get(tier, TIER_DEFAULTS["standard"]), quiet=quiet)


def _from_row(row: AlertPreference) -> Settings:
    quiet = None
    if row.quiet_start and row.quiet_end:
        quiet = (time.fromisoformat(row.quiet_start), time.fromisoformat(row.quiet_end))
    return Settings(_known(Channel, row.channels), _known(AlertEvent, row.events), row.cadence,
                    quiet, row.stopped, _known(Channel, row.disabled), stored=True)


def _known(vocabulary: type[_Word], stored: list[str]) -> tuple[_Word, ...]:
    """The stored names as members; one no longer known (a channel removed) is skipped."""
    known = {member.value for member in vocabulary}
    return tuple(vocabulary(name) for name in stored if name in known)


async def settings_of(
    contacts: list[Contact], quiet: tuple[time, time] | None
) -> dict[int, Settings]:
    """Settings per contact id, in two queries however many contacts."""
    ids = [c.id for c in contacts]
    rows = {r.contact_id: r for r in await AlertPreference.filter(contact_id__in=ids)}
    account_ids = list({c.account_id for c in contacts})
    tiers = dict(await Account.filter(id__in=account_ids).values_list("id", "tier"))
    return {
        c.id: _from_row(rows[c.id]) if c.id in rows else defaults(str(tiers.get(c.account_id)),
                                                                  quiet)
        for c in contacts
    }


async def settings_for(contact: Contact, quiet: tuple[time, time] | None) -> Settings:
    return (await settings_of([contact], quiet))[contact.id]


async def linked_chats(contact_ids: list[int]) -> dict[int, dict[str, str]]:
    """contact id -> platform -> chat id, for contacts with Slack or Telegram linked."""
    found: dict[int, dict[str, str]] = {}
    for contact_id, platform, chat_id in await ChatLink.filter(
        contact_id__in=contact_ids
    ).order_by("linked_at").values_list("contact_id", "platform", "chat_id"):
        found.setdefault(int(contact_id), {})[str(platform)] = str(chat_id)
    return found


async def linked_channels(contact: Contact) -> set[str]:
    """Email always (the address on file), plus each chat platform linked."""
    return {Channel.EMAIL, *(await linked_chats([contact.id])).get(contact.id, {})}


async def apply(
    contact: Contact, change: Change, quiet_default: tuple[time, time] | None,
    *, via: str, now: datetime,
) -> Applied:
    """Apply a change, store it, and make waiting notifications follow it at once
    (a contact who says "stop alerts" must not get one more)."""
    linked = await linked_channels(contact)
    async with in_transaction():
        current = await settings_for(contact, quiet_default)
        new, not_linked = _changed(current, change, linked)
        await _store(contact, new, now)
        await _follow(contact, new, linked)
    await audit.record("notifier.preferences.changed", account_id=contact.account_id,
                       contact_id=contact.id, via=via, channels=list(new.channels),
                       cadence=new.cadence, events=list(new.events), stopped=new.stopped,
                       quiet=_quiet_text(new.quiet))
    return Applied(new, not_linked)


def _changed(
    current: Settings, change: Change, linked: set[str]
) -> tuple[Settings, tuple[Channel, ...]]:
    new = current
    not_linked: tuple[Channel, ...] = ()
    if change.channels is not None:
        asked = tuple(Channel(c) for c in change.channels)
        not_linked = tuple(c for c in asked if c not in linked)
        wanted = tuple(c for c in asked if c in linked)
        if wanted:  # choosing a channel again switches its route back on
            new = replace(new, channels=wanted,
                          disabled=tuple(c for c in new.disabled if c not in wanted))
    if change.cadence is not None:
        new = replace(new, cadence=Cadence(change.cadence))
    if change.events is not None:
        new = replace(new, events=tuple(dict.fromkeys(AlertEvent(e) for e in change.events)))
    if change.quiet_hours is not None or change.no_quiet_hours:
        new = replace(new, quiet=change.quiet_hours)
    if change.stop or change.resume:
        new = replace(new, stopped=change.stop)
    return replace(new, stored=True), not_linked


async def _store(contact: Contact, settings: Settings, now: datetime) -> None:
    start, end = (t.strftime("%H:%M") for t in settings.quiet) if settings.quiet else ("", "")
    await AlertPreference.update_or_create(
        contact_id=contact.id,
        # JSON holds the plain names
        defaults={"channels": [c.value for c in settings.channels],
                  "events": [e.value for e in settings.events],
                  "cadence": settings.cadence, "quiet_start": start, "quiet_end": end,
                  "stopped": settings.stopped, "disabled": [c.value for c in settings.disabled],
                  "updated_at": now},
    )


async def _follow(contact: Contact, settings: Settings, linked: set[str]) -> None:
    waiting = Notification.filter(contact_id=contact.id, state=State.WAITING)
    await waiting.exclude(channel__in=list(settings.routes(linked))).update(
        state=State.CANCELLED)
    await waiting.update(cadence=settings.cadence)


async def disable_route(contact_id: int, channel: str, reason: str,
                        quiet_default: tuple[time, time] | None, now: datetime) -> bool:
    """Switch off alerts on one channel for one contact after a permanent failure.

    Audited; True if the route was on. The contact turns it back on by choosing the
    channel again ("notify me on telegram", `invoicebot notify set --channels`).
    """
    contact = await Contact.get_or_none(id=contact_id)
    if contact is None:
        return False
    async with in_transaction():
        current = await settings_for(contact, quiet_default)
        if channel in current.disabled:
            return False
        new = replace(current, disabled=(*current.disabled, Channel(channel)))
        await _store(contact, new, now)
        await Notification.filter(contact_id=contact_id, channel=channel,
                                  state=State.WAITING).update(state=State.CANCELLED)
    await audit.record("notifier.route.disabled", account_id=contact.account_id,
                       contact_id=contact_id, channel=channel, reason=reason[:300])
    return True


def contact_zone(contact: Contact, account: Account | None = None) -> ZoneInfo:
    name = contact.timezone or (account.timezone if account else "") or "UTC"
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # a bad name in imported data: UTC rather than crash
        return ZoneInfo("UTC")


def quiet_until(now: datetime, zone: ZoneInfo, quiet: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours around `now` end (UTC), or None when `now` is not quiet."""
    if quiet is None:
        return None
    start, end = quiet
    local = now.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= moment < end, local.date()
    else:  # wraps past midnight, e.g. 20:00-07:00
        inside = moment >= start or moment < end
        end_day = local.date() + timedelta(days=1) if moment >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


def _quiet_text(quiet: tuple[time, time] | None) -> str:
    return f"{quiet[0]:%H:%M}-{quiet[1]:%H:%M}" if quiet else ""


def describe(settings: Settings, linked: set[str], zone: str, digest_time: time,
             weekday: str, words: Catalogue | None = None) -> list[str]:
    """The settings in words, one line each, as the bot and the CLI show them; in the
    contact's language (`words`), English without it."""
    words = words or catalogue(SOURCE_LANGUAGE, "messages")
    _ = words.gettext
    if settings.stopped:
        return [_('Alerts are stopped. Say "resume alerts" to get them again.')]
    routes = settings.routes(linked)
    channels = ", ".join(channel_label(Channel(c), words) for c in routes)
    lines = [_("Channels: {channels}").format(channels=channels) if channels
             else _("Channels: none")]
    lines += [_("{channel}: switched off after failed deliveries; choose it again to switch "
                "it back on").format(channel=channel_label(c, words))
              for c in settings.disabled if c in settings.channels]
    at = f"{digest_time:%H:%M}"
    day = str(get_day_names("wide", locale=words.language)[WEEKDAYS.index(weekday)])
    lines.append({
        Cadence.INSTANT: _("How: each alert at once"),
        Cadence.DAILY: _("How: a daily digest at {time}").format(time=at),
        Cadence.WEEKLY: _("How: a weekly digest on {weekday} at {time}").format(
            weekday=day[:1].upper() + day[1:], time=at),
    }[settings.cadence])
    about = ", ".join(event_label(e, words) for e in settings.events)
    lines.append(_("About: {events}").format(events=about) if about else _("About: nothing"))
    if settings.quiet:
        zone_name = Formats.of("en", zone, language=words.language).zone()
        lines.append(_("Quiet hours: {hours} ({zone}); instant alerts wait until they end")
                     .format(hours=_quiet_text(settings.quiet), zone=zone_name))
    if not settings.stored:
        lines.append(_("These are your account's defaults."))
    return lines
