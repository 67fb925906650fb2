"""`invoicebot chat unlock --contact EMAIL`: a person ends a chat-linking lock.

After BUDGET wrong codes in total, linking chats to a contact stays locked until someone
who has checked with the contact runs this; it also ends a burst lock and resets the
contact's failure budget.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.chatguard import BUDGET, Guard
from bot.errors import UsageError
from vault.clock import SYSTEM
from vault.config import Config
from vault.models import Contact

EXIT_OK = 0


def add_parser(sub: Any) -> None:
    chat = sub.add_parser("chat", help="chat linking: unlock a contact locked after wrong codes")
    actions = chat.add_subparsers(dest="chat_command", required=True)
    unlock = actions.add_parser(
        "unlock", help=f"end the lock on linking chats to a contact and reset its budget of "
                       f"{BUDGET} wrong codes")
    unlock.add_argument("--contact", required=True, metavar="EMAIL")


async def run(args: argparse.Namespace, config: Config) -> int:
    from bot.commands_cli import database  # imported on use: it loads the PDF renderer

    async with database(config):
        contact = await Contact.get_or_none(email=args.contact.strip().lower())
        if contact is None:
            raise UsageError(f"--contact: {args.contact!r} is not a contact on file")
        was_locked = await Guard(config.email).unlock(contact, SYSTEM.now())
    print(f"{contact.email}: chat linking "
          f"{'unlocked' if was_locked else 'was not locked'}; failure budget reset")
    return EXIT_OK
