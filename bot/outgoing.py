"""A Reply as the one outgoing message (notifier.message.Outgoing), for any channel. Pure.

Email, Slack and Telegram render the same Outgoing each in their own way (the channel
modules); here a Reply's parts become its sections: a reply that answers several
requests gets one numbered section per request.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import Link as ReplyLink
from bot.messages import ListingRow, Reply
from bot.replies import expiry_note
from notifier.message import InvoiceRow, Link, MailHeaders, Outgoing, Section
from vault.i18n import Catalogue, catalogue
from vault.vocabulary import Channel, OutboxKind


def reply_message(
    reply: Reply, *, key: str, kind: OutboxKind, channel: Channel | str, recipient: str,
    contact_id: int | None, mail: MailHeaders | None = None, offers: Sequence[ReplyLink] = (),
) -> Outgoing:
    """`mail` is needed for email and ignored elsewhere; `offers` are one-click links to
    ask in a chat instead (Telegram deep link, Slack sign-in page)."""
    words = catalogue(reply.language, "messages")
    sections = _sections(reply, words)
    if offers:
        intro = words.gettext("Prefer chat? Link your chat account in one click and ask us "
                              "there:")
        sections.append(Section(text=(intro,), links=_links(offers)))
    channel = Channel(channel)
    return Outgoing(kind=kind, channel=channel, recipient=recipient, key=key,
                    title=reply.subject, sections=tuple(sections), contact_id=contact_id,
                    mail=mail if channel == Channel.EMAIL else None, language=reply.language)


def _sections(reply: Reply, words: Catalogue) -> list[Section]:
    if not reply.sections:
        return [_section(reply, "", words, with_expiry=True)]
    parts = [Section(text=(reply.intro,))]
    parts += [_section(part, f"{number}. {part.subject}", words, with_expiry=False)
              for number, part in enumerate(reply.sections, 1)]
    closing = (*_expiry(reply.links_expire, words), *((reply.outro,) if reply.outro else ()))
    return parts + ([Section(after=closing)] if closing else [])


def _section(reply: Reply, heading: str, words: Catalogue, *, with_expiry: bool) -> Section:
    expiry = _expiry(reply.links_expire, words) if with_expiry else ()
    return Section(
        heading=heading, text=(reply.intro,) if reply.intro else (),
        rows=tuple(_row(line) for line in reply.rows), links=_links(reply.links),
        notes=reply.notes, after=(*expiry, *((reply.outro,) if reply.outro else ())),
    )


def _row(line: ListingRow) -> InvoiceRow:
    return InvoiceRow(line.number, line.issue_date, line.due_date, line.amount, line.status,
                      line.link.url if line.link else "", line.still_due)


def _links(links: Sequence[ReplyLink]) -> tuple[Link, ...]:
    return tuple(Link(link.label, link.url) for link in links)


def _expiry(expires: str, words: Catalogue) -> tuple[str, ...]:
    return (expiry_note(expires, words),) if expires else ()
