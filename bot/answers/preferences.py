"""The bot's answer to "my notification settings", "notify me on telegram", "daily digest",
"only overdue", "stop alerts", "resume alerts": apply the change, then say what is set now.

The parser turns the words into bot.intents.Preferences; this module turns that into a
notifier.preferences.Change (the notifier does not import bot) and a Reply.
"""

from __future__ import annotations

from datetime import datetime

from bot.answers import Context
from bot.intents import PreferenceChange, Preferences
from bot.messages import Reply
from bot.replies import Formats
from notifier import preferences
from notifier.words import channel_label
from vault.config_alerts import WEEKDAYS, AlertsConfig
from vault.models import Contact


def _how_to_change(fmt: Formats) -> str:
    return fmt.words.gettext(
        'Change them in your own words, e.g. "notify me on telegram", "daily digest", '
        '"weekly digest", "only overdue", "quiet hours 20:00-07:00", "stop alerts".')


def to_change(change: PreferenceChange) -> preferences.Change:
    return preferences.Change(
        channels=change.channels,
        cadence=change.cadence,
        events=change.events,
        quiet_hours=change.quiet_hours,
        stop=change.stop,
        resume=change.resume,
    )


async def answer_preferences(ctx: Context, command: Preferences) -> Reply:
    """The pipeline's entry: the settings of the contact who asked."""
    return await settings_reply(ctx.scope.contact, command, ctx.fmt,
                                alerts=ctx.tools.config.alerts, now=ctx.now)


async def settings_reply(
    contact: Contact, command: Preferences, fmt: Formats, *, alerts: AlertsConfig,
    now: datetime,
) -> Reply:
    """Show the contact's alert settings, or change them and show the result."""
    linked, _ = await preferences.linked_channels(contact), fmt.words.gettext
    if command.change is None:
        settings = await preferences.settings_for(contact, alerts.default_quiet_hours)
        return Reply(subject=_("Your notification settings"),
                     intro=_("This is how we tell you about your invoices:"),
                     notes=tuple(_describe(settings, linked, fmt, alerts)),
                     outro=_how_to_change(fmt))
    applied = await preferences.apply(contact, to_change(command.change),
                                      alerts.default_quiet_hours, via="bot", now=now)
    notes = _describe(applied.settings, linked, fmt, alerts)
    if applied.not_linked:
        names = ", ".join(channel_label(c, fmt.words) for c in applied.not_linked)
        notes.insert(0, _("Not linked yet: {channels}. Message our bot there once to link it, "
                          "then ask again.").format(channels=names))
    intro = _intro(command.change, applied, fmt)
    return Reply(subject=_("Notification settings updated"), intro=intro, notes=tuple(notes),
                 outro=_how_to_change(fmt))


def _intro(change: PreferenceChange, applied: preferences.Applied, fmt: Formats) -> str:
    _ = fmt.words.gettext
    if change.stop:
        return _('Done: you will get no more invoice alerts. Say "resume alerts" to get them '
                 'again.')
    if change.resume:
        return _("Done: invoice alerts are on again.")
    if change.channels is not None and applied.not_linked and set(applied.not_linked) >= set(
        change.channels
    ):
        return _("Your channels are unchanged.")
    return _("Done. Your notification settings are now:")


def _describe(settings: preferences.Settings, linked: set[str], fmt: Formats,
              alerts: AlertsConfig) -> list[str]:
    return preferences.describe(settings, linked, fmt.timezone, alerts.digest_time,
                                WEEKDAYS[alerts.digest_weekday], fmt.words)
