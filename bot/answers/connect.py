""""connect telegram": how to link a chat account, with one-click links under the email.

The links themselves are added by the email inbox (bot.chatservice offers) because only the
chat side knows the bot's Telegram name and the Slack sign-in page; this answer marks the
reply as asking for them, so no other reply ever carries a linking token.
"""

from __future__ import annotations

from bot.answers import Context
from bot.intents import ConnectChat
from bot.messages import Reply
from vault.vocabulary import Channel


async def connect_chat(ctx: Context, command: ConnectChat) -> Reply:
    channel = Channel(command.platform)
    label, email = channel.label, ctx.scope.contact.email
    enabled = (ctx.tools.config.slack if channel == Channel.SLACK
               else ctx.tools.config.telegram) is not None
    if not enabled:
        return Reply(subject=f"{label} is not available",
                     intro=f"We do not answer in {label}; please keep asking us by email.")
    return Reply(
        subject=f"Ask us in {label}",
        intro=(f"To ask us in {label}, link your {label} account to {email}: in an email "
               "reply the one-click link is below (it works once and expires with our "
               f"download links). Or write \"link {email}\" to our bot in {label} and type "
               "the code we email you."),
        chat_offers=(channel.value,),
    )
