"""`invoicebot access clear --contact EMAIL`: AR ends an access watch.

When a contact's access looked unusual (vault.access_watch) AR gets one item and step-up
is required for that contact; once AR has checked with the contact, this ends it (and
marks the AR item resolved). Without it, the watch ends once access.watch_quiet has
passed since its last hit.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.errors import UsageError
from vault import access_watch
from vault.clock import SYSTEM
from vault.config import Config
from vault.models import Contact

EXIT_OK = 0


def add_parser(sub: Any) -> None:
    access = sub.add_parser("access", help="access watching on the account page: clear a "
                                           "contact AR has checked with")
    actions = access.add_subparsers(dest="access_command", required=True)
    clear = actions.add_parser(
        "clear", help="end the contact's access watch: step-up is no longer required for "
                      "them (unless their account asks for it anyway)")
    clear.add_argument("--contact", required=True, metavar="EMAIL")


async def run(args: argparse.Namespace, config: Config) -> int:
    from bot.commands_cli import database  # imported on use: it loads the PDF renderer

    async with database(config):
        contact = await Contact.get_or_none(email=args.contact.strip().lower())
        if contact is None:
            raise UsageError(f"--contact: {args.contact!r} is not a contact on file")
        cleared = await access_watch.clear(contact, SYSTEM.now())
    print(f"{contact.email}: access watch "
          f"{'cleared' if cleared else 'was not open'}; step-up as the account sets it")
    return EXIT_OK
