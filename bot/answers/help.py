"""Help, not-understood and not-allowed replies, generated from the command registry.

The examples fit the contact's role (only what they may ask for) and their account (the
templates are filled from their own invoices: bot.answers.examples); an example that
would not parse back to the command it illustrates is not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from bot.answers import Context
from bot.answers.examples import Samples, samples_of
from bot.commands import parse_request
from bot.intents import ConnectChat, Unclear
from bot.messages import Reply
from notifier.words import role_label
from vault.formats import Formats, quoted
from vault.i18n import Catalogue
from vault.vocabulary import Role

ENGLISH = Formats.of("en")

if TYPE_CHECKING:
    from bot.registry import Entry


async def help_reply(ctx: Context, entries: Sequence[Entry],
                     unclear: Unclear | None = None) -> Reply:
    """What the contact may ask for, with examples from their account; with `unclear`,
    the not-understood reply (their words echoed, and close phrasings suggested)."""
    role, words = Role.of(ctx.scope.contact.role), ctx.fmt.words
    _ = words.gettext
    samples = await samples_of(ctx.scope, ctx.today, ctx.fmt.language)
    intro = _("Here is what you can ask for.")
    if unclear is not None:
        first = _first_line(unclear)
        sorry = (_("Sorry, we did not understand your request {words}.").format(words=first)
                 if first else _("Sorry, we did not understand your request."))
        intro = f"{sorry} {intro}"
        suggestions = [s for s in map(samples.fill, unclear.suggestions) if s]
        if suggestions:
            intro += " " + _("Did you mean: {suggestions}?").format(
                suggestions="; ".join(f'"{s}"' for s in suggestions))
    outro = _("Write one request per line, in the subject or the message.")
    locked = _role_note(entries, role, ctx.fmt)
    return Reply(subject=_("How to ask for invoices"), intro=intro,
                 notes=examples(entries, role, samples, ctx.today, ctx.fmt.locale,
                                chats=_chats_on(ctx), words=words),
                 outro=f"{outro} {locked}" if locked else outro)


def examples(entries: Sequence[Entry], role: Role, samples: Samples, today: date,
             locale: str, chats: frozenset[str] = frozenset({"slack", "telegram"}),
             words: Catalogue | None = None) -> tuple[str, ...]:
    """The role's examples in the contact's language (`words`; English without it)
    filled from the account, each one that parses back to its command (a number or name
    of an unusual shape, or a translation the parser does not read, is left out rather
    than misread), and no "connect telegram" for a chat this service does not run
    (`chats`: those it does)."""
    translate = words.gettext if words is not None else str
    shown = []
    for entry in entries:
        if not entry.allows(role):
            continue
        for text in filter(None, (samples.fill(translate(t)) for t in entry.examples)):
            parsed = parse_request(text, today, locale)
            if [type(c) for c in parsed] != [entry.kind]:
                continue
            if isinstance(parsed[0], ConnectChat) and parsed[0].platform not in chats:
                continue
            shown.append(text)
    return tuple(shown)


def _chats_on(ctx: Context) -> frozenset[str]:
    config = ctx.tools.config
    return frozenset(name for name, on in (("slack", config.slack), ("telegram", config.telegram))
                     if on is not None)


def not_allowed(role: Role, entry: Entry, fmt: Formats = ENGLISH) -> Reply:
    """A refused command says which roles allow it."""
    _ = fmt.words.gettext
    name = _(entry.name)
    return Reply(
        subject=_("Not available to your role: {name}").format(name=name),
        # TRANSLATORS: {role} is the role's name; English puts "a"/"an" in front of it.
        intro=_("Sorry, {name} are available to {roles} contacts; you are registered "
                "as {role} contact.").format(
                    name=name, roles=_roles(entry, fmt),
                    role=_article(role_label(role, fmt.words), fmt)),
        outro=_('A colleague with that role can ask for it, or write "talk to a person".'),
    )


def _written(unclear: Unclear) -> str:
    """Their first line quoted back after a space, "" when they wrote nothing."""
    first = _first_line(unclear)
    return f" {first}" if first else ""


def _first_line(unclear: Unclear) -> str:
    first = next((ln.strip() for ln in unclear.text.splitlines() if ln.strip()), "")
    return quoted(first[:80]) if first else ""


def _role_note(entries: Sequence[Entry], role: Role, fmt: Formats) -> str:
    locked = [entry for entry in entries if not entry.allows(role)]
    if not locked:
        return ""
    _ = fmt.words.gettext
    # TRANSLATORS: {roles} are role names; English puts "a"/"an" in front of them.
    names = "; ".join(_("{name} need {roles} contact").format(
        name=_(e.name), roles=_article(_roles(e, fmt), fmt)) for e in locked)
    return f"({names[:1].upper()}{names[1:]}.)"


def _roles(entry: Entry, fmt: Formats) -> str:
    return fmt.or_list(role_label(r, fmt.words) for r in entry.roles())


def _article(words: str, fmt: Formats) -> str:
    """English's "a"/"an" before role names; the other languages' sentences need none."""
    if fmt.language != "en":
        return words
    return f"{'an' if words[:1] in 'aeioAEIO' else 'a'} {words}"
