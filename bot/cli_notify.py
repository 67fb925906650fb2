"""`invoicebot notify show|set|test --contact EMAIL`: a contact's alert settings from the CLI.

    notify show --contact ap@acme.example
    notify set  --contact ap@acme.example --channels email,telegram --cadence daily \\
                --events issued,overdue --quiet 20:00-07:00      (--quiet off: none)
    notify set  --contact ap@acme.example --stop                 (--resume)
    notify test --contact ap@acme.example
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from bot.errors import UsageError
from notifier import preferences
from vault.clock import SYSTEM
from vault.config import Config, ConfigError
from vault.config_alerts import WEEKDAYS, parse_quiet_hours
from vault.models import Account, Contact
from vault.vocabulary import AlertEvent, Cadence, Channel

EXIT_OK, EXIT_ERROR = 0, 1
# Short names for --events; the full names (invoice.issued ...) work too.
EVENT_NAMES = {
    **{e.short: e for e in AlertEvent}, **{e.value: e for e in AlertEvent},
    "status": AlertEvent.STATUS_CHANGED, "payments": AlertEvent.PAYMENT_RECEIVED,
}
CHANNELS = tuple(c.value for c in Channel.deliverable())


def add_parser(sub: Any) -> None:
    notify = sub.add_parser("notify", help="a contact's alert settings; send a test alert")
    actions = notify.add_subparsers(dest="notify_command", required=True)
    for name, text in (("show", "print the contact's alert settings"),
                       ("set", "change the contact's alert settings"),
                       ("test", "send a test alert on each of the contact's channels")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--contact", required=True, metavar="EMAIL")
    change = actions.choices["set"]
    change.add_argument("--channels", help="comma-separated: email, slack, telegram")
    change.add_argument("--cadence", choices=[c.value for c in Cadence])
    change.add_argument("--events", help=f"comma-separated: {', '.join(sorted(EVENT_NAMES))}")
    change.add_argument("--quiet", metavar="HH:MM-HH:MM", help='quiet hours, or "off"')
    stop = change.add_mutually_exclusive_group()
    stop.add_argument("--stop", action="store_true", help="no alerts at all")
    stop.add_argument("--resume", action="store_true", help="alerts again")


async def run(args: argparse.Namespace, config: Config) -> int:
    from bot.commands_cli import database  # imported on use: it loads the PDF renderer

    async with database(config):
        contact = await Contact.get_or_none(email=args.contact.strip().lower())
        if contact is None:
            raise UsageError(f"--contact: {args.contact!r} is not a contact on file")
        if args.notify_command == "test":
            return await _test(config, contact)
        if args.notify_command == "set":
            change = _change(args)
            missing = set(change.channels or ()) - await preferences.linked_channels(contact)
            if missing:  # checked first, so a bad command changes nothing
                raise UsageError(f"--channels: {', '.join(sorted(missing))} is not linked for "
                                 f"{contact.email} (the contact links it by messaging the bot)")
            await preferences.apply(contact, change, config.alerts.default_quiet_hours,
                                    via="cli", now=SYSTEM.now())
        await _show(config, contact)
    return EXIT_OK


def _change(args: argparse.Namespace) -> preferences.Change:
    change = preferences.Change(
        channels=_channels(args.channels) if args.channels else None,
        cadence=Cadence(args.cadence) if args.cadence else None,
        events=_events(args.events) if args.events else None,
        stop=args.stop, resume=args.resume,
    )
    if args.quiet is None:
        return change
    if args.quiet.strip().lower() == "off":
        return replace(change, no_quiet_hours=True)
    try:
        quiet = parse_quiet_hours(args.quiet, "--quiet")
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    return replace(change, quiet_hours=quiet)


def _channels(text: str) -> tuple[Channel, ...]:
    names = tuple(c.strip().lower() for c in text.split(",") if c.strip())
    unknown = [c for c in names if c not in CHANNELS]
    if unknown or not names:
        raise UsageError(f"--channels: {unknown[0] if unknown else text!r} is not a channel "
                         f"(use {', '.join(CHANNELS)})")
    return tuple(Channel(c) for c in names)


def _events(text: str) -> tuple[AlertEvent, ...]:
    names = [e.strip().lower() for e in text.split(",") if e.strip()]
    unknown = [e for e in names if e not in EVENT_NAMES]
    if unknown or not names:
        raise UsageError(f"--events: {unknown[0] if unknown else text!r} is not an event "
                         f"(use {', '.join(sorted(EVENT_NAMES))})")
    return tuple(dict.fromkeys(EVENT_NAMES[e] for e in names))


async def _show(config: Config, contact: Contact) -> None:
    account = await Account.get(id=contact.account_id)
    settings = await preferences.settings_for(contact, config.alerts.default_quiet_hours)
    linked = await preferences.linked_channels(contact)
    zone = preferences.contact_zone(contact, account).key
    print(f"{contact.email} ({account.name}, tier {account.tier})")
    for line in preferences.describe(settings, linked, zone, config.alerts.digest_time,
                                     WEEKDAYS[config.alerts.digest_weekday]):
        print(f"  {line}")


async def _test(config: Config, contact: Contact) -> int:
    from bot.commands_cli import with_secret_keys
    from notifier.alerts import AlertContext
    from notifier.delivery import RelayAccess, Sender, close_sender, sender_for
    from notifier.email_send import Brand
    from notifier.probe import send_test_alerts
    from vault.links import LinkSigner

    config = with_secret_keys(config, generate=False)
    senders: dict[str, Sender] = {
        Channel.EMAIL: sender_for(config.email.outbound, envelope_from=config.email.sender,
                                  brand=Brand.of(config.seller),
                                  relay=RelayAccess.of(config.email))}
    context = AlertContext(config, LinkSigner(config.secret_keys))
    try:
        outcomes = await send_test_alerts(context, contact, senders, SYSTEM.now())
    finally:
        await close_sender(senders[Channel.EMAIL])
    for outcome in outcomes:
        print(outcome.line())
    return EXIT_ERROR if any(o.failed for o in outcomes) else EXIT_OK
