"""A Reply as the one outgoing message (notifier.message.Outgoing), for any channel. Pure.

Email, Slack and Telegram render the same Outgoing each in their own way (the channel
modules); here a Reply's parts become its sections: a reply that answers several
requests gets one numbered section per request.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import Link as ReplyLink
from bot.messages import ListingRow, Reply
from notifier.message import InvoiceRow, Link, MailHeaders, Outgoing, Section
from vault.vocabulary import Channel, OutboxKind

OFFER_INTRO = "Prefer chat? Link your chat account in one click and ask us there:"


def reply_message(
    reply: Reply, *, key: str, kind: OutboxKind, channel: Channel | str, recipient: str,
    contact_id: int | None, mail: MailHeaders | None = None, offers: Sequence[ReplyLink] = (),
) -> Outgoing:
    """`mail` is needed for email and ignored elsewhere; `offers` are one-click links to
    ask in a chat instead (Telegram deep link, Slack sign-in page)."""
    sections = _sections(reply)
    if offers:
        sections.append(Section(text=(OFFER_INTRO,), links=_links(offers)))
    channel = Channel(channel)
    return Outgoing(kind=kind, channel=channel, recipient=recipient, key=key,
                    title=reply.subject, sections=tuple(sections), contact_id=contact_id,
                    mail=mail if channel == Channel.EMAIL else None)


def _sections(reply: Reply) -> list[Section]:
    if not reply.sections:
        return [_section(reply, "", with_expiry=True)]
    parts = [Section(text=(reply.intro,))]
    parts += [_section(part, f"{number}. {part.subject}", with_expiry=False)
              for number, part in enumerate(reply.sections, 1)]
    closing = (*_expiry(reply.links_expire), *((reply.outro,) if reply.outro else ()))
    return parts + ([Section(after=closing)] if closing else [])


def _section(reply: Reply, heading: str, *, with_expiry: bool) -> Section:
    expiry = _expiry(reply.links_expire) if with_expiry else ()
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


def _expiry(expires: str) -> tuple[str, ...]:
    return (f"Links expire {expires}. Ask again for fresh ones.",) if expires else ()
