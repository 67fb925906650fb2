""""connect telegram": how to link a chat account, with one-click links under the email.

The links themselves are added by the email inbox (bot.chatservice offers) because only the
chat side knows the bot's Telegram name and the Slack sign-in page; this answer marks the
reply as asking for them, so no other reply ever carries a linking token.
"""

from __future__ import annotations

from bot.answers import Context
from bot.intents import ConnectChat
from bot.messages import Reply
from vault.models import ChatLink
from vault.vocabulary import Channel


async def connect_chat(ctx: Context, command: ConnectChat) -> Reply:
    channel = Channel(command.platform)
    label, email = channel.label, ctx.scope.contact.email
    enabled = (ctx.tools.config.slack if channel == Channel.SLACK
               else ctx.tools.config.telegram) is not None
    if not enabled:
        return Reply(subject=f"{label} is not available",
                     intro=f"We do not answer in {label}; please keep asking us by email.")
    if await ChatLink.exists(contact_id=ctx.scope.contact.id, platform=channel.value):
        return Reply(subject=f"Your {label} account is already linked",
                     intro=f"Your {label} account is already linked to {email}: ask us there "
                           "any time. The email we sent when it was linked has a link to "
                           "unlink it.")
    by_code = f"write \"link {email}\" to our bot in {label} and type the code we email you"
    if ctx.request.channel == Channel.EMAIL:
        # The offers are made when this reply is queued, for links.ttl like downloads.
        until = ctx.fmt.local_day(ctx.now + ctx.tools.config.link_ttl)
        how = f"use the one-click link below (it works once, until {until}), or {by_code}"
    else:  # one-click links only ever travel by email, to the address on file
        how = f"{by_code}, or ask us by email for a one-click link"
    return Reply(
        subject=f"Ask us in {label}",
        intro=f"To ask us in {label}, link your {label} account to {email}: {how}.",
        chat_offers=(channel.value,),
    )
