""""answer in German", "auf Englisch bitte": the contact's answer language, stored.

The choice wins over everything else the rule looks at (vault.answer_language) and holds
for replies, alerts and digests until the contact names another language. The
confirmation is already in the chosen language: the pipeline reads the choice before it
answers (bot.pipeline).
"""

from __future__ import annotations

from bot.answers import Context
from bot.intents import AnswerIn
from bot.messages import Reply
from vault.models import Contact


async def answer_in(ctx: Context, command: AnswerIn) -> Reply:
    contact = ctx.scope.contact
    await Contact.filter(id=contact.id).update(answer_language=command.language)
    contact.answer_language = command.language
    _ = ctx.fmt.words.gettext
    return Reply(subject=_("We will answer you in English from now on"),
                 intro=_("From now on we answer your requests, and send your alerts and "
                         "digests, in English."),
                 outro=_('To change it, write for example "answer in German".'))
