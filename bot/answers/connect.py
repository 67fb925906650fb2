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
    _ = ctx.fmt.words.gettext
    channel = Channel(command.platform)
    label, email = channel.label, ctx.scope.contact.email
    enabled = (ctx.tools.config.slack if channel == Channel.SLACK
               else ctx.tools.config.telegram) is not None
    if not enabled:
        return Reply(subject=_("{chat} is not available").format(chat=label),
                     intro=_("We do not answer in {chat}; please keep asking us by email."
                             ).format(chat=label))
    if await ChatLink.exists(contact_id=ctx.scope.contact.id, platform=channel.value):
        return Reply(subject=_("Your {chat} account is already linked").format(chat=label),
                     intro=_("Your {chat} account is already linked to {email}: ask us there "
                             "any time. The email we sent when it was linked has a link to "
                             "unlink it.").format(chat=label, email=email))
    if ctx.request.channel == Channel.EMAIL:
        # The offers are made when this reply is queued, for links.ttl like downloads.
        until = ctx.fmt.local_day(ctx.now + ctx.tools.config.link_ttl)
        intro = _("To ask us in {chat}, link your {chat} account to {email}: use the one-click "
                  "link below (it works once, until {until}), or write \"link {email}\" to our "
                  "bot in {chat} and type the code we email you.")
    else:  # one-click links only ever travel by email, to the address on file
        until = ""
        intro = _("To ask us in {chat}, link your {chat} account to {email}: write \"link "
                  "{email}\" to our bot in {chat} and type the code we email you, or ask us "
                  "by email for a one-click link.")
    return Reply(
        subject=_("Ask us in {chat}").format(chat=label),
        intro=intro.format(chat=label, email=email, until=until),
        chat_offers=(channel.value,),
    )
