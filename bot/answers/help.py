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
from vault.formats import quoted
from vault.vocabulary import Role

if TYPE_CHECKING:
    from bot.registry import Entry


async def help_reply(ctx: Context, entries: Sequence[Entry],
                     unclear: Unclear | None = None) -> Reply:
    """What the contact may ask for, with examples from their account; with `unclear`,
    the not-understood reply (their words echoed, and close phrasings suggested)."""
    role = Role.of(ctx.scope.contact.role)
    samples = await samples_of(ctx.scope, ctx.today)
    intro = "Here is what you can ask for."
    if unclear is not None:
        intro = f"Sorry, we did not understand your request{_written(unclear)}. {intro}"
        suggestions = [s for s in map(samples.fill, unclear.suggestions) if s]
        if suggestions:
            intro += " Did you mean: " + "; ".join(f'"{s}"' for s in suggestions) + "?"
    return Reply(subject="How to ask for invoices", intro=intro,
                 notes=examples(entries, role, samples, ctx.today, ctx.fmt.locale,
                                chats=_chats_on(ctx)),
                 outro="Write one request per line, in the subject or the message."
                       + _role_note(entries, role))


def examples(entries: Sequence[Entry], role: Role, samples: Samples, today: date,
             locale: str, chats: frozenset[str] = frozenset({"slack", "telegram"}),
             ) -> tuple[str, ...]:
    """The role's examples filled from the account, each one that parses back to its
    command (a number or name of an unusual shape is left out rather than misread), and
    no "connect telegram" for a chat this service does not run (`chats`: those it does)."""
    shown = []
    for entry in entries:
        if not entry.allows(role):
            continue
        for text in filter(None, map(samples.fill, entry.examples)):
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


def not_allowed(role: Role, entry: Entry) -> Reply:
    """A refused command says which roles allow it."""
    return Reply(
        subject=f"Not available to your role: {entry.name}",
        intro=f"Sorry, {entry.name} are available to {_roles(entry)} contacts; you are "
              f"registered as {_a(role.label)} contact.",
        outro="A colleague with that role can ask for it, or write \"talk to a person\".",
    )


def _written(unclear: Unclear) -> str:
    first = next((ln.strip() for ln in unclear.text.splitlines() if ln.strip()), "")
    return f" {quoted(first[:80])}" if first else ""


def _role_note(entries: Sequence[Entry], role: Role) -> str:
    locked = [entry for entry in entries if not entry.allows(role)]
    if not locked:
        return ""
    names = "; ".join(f"{e.name} need {_a(_roles(e))} contact" for e in locked)
    return f" ({names[:1].upper()}{names[1:]}.)"


def _roles(entry: Entry) -> str:
    return " or ".join(r.label for r in entry.roles())


def _a(words: str) -> str:
    return f"{'an' if words[:1] in 'aeioAEIO' else 'a'} {words}"
