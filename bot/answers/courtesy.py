"""Thanks, "ok", "perfect, thank you": a short friendly answer, or none at all.

A contact who thanks us asked for nothing; the help would be noise. Email answers only
with email.answer_thanks (default true; false: no reply at all); chat always answers,
one line.
"""

from __future__ import annotations

from bot.answers import Context
from bot.intents import Thanks
from bot.messages import Reply


async def thanks(ctx: Context, command: Thanks) -> Reply:
    if ctx.request.channel == "email" and not ctx.tools.config.email.answer_thanks:
        return Reply(subject="", intro="", deliver=False)
    _ = ctx.fmt.words.gettext
    welcome = _("You're welcome!")
    return Reply(subject=welcome, intro=_(
        "You're welcome! Write any time you need an invoice, a statement or your balance."))
