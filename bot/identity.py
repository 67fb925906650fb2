"""Who is asking: a Request's address must be an active contact, proven by the channel."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import Request
from vault.models import Contact


@dataclass(frozen=True)
class Refusal:
    """Why a request gets no invoice data. `contact` is set when the address is on file."""

    kind: str  # unknown_sender, unauthenticated, inactive_contact
    contact: Contact | None = None


async def identify(request: Request) -> Contact | Refusal:
    contact = await Contact.get_or_none(email=request.address.lower())
    if contact is None:
        return Refusal("unknown_sender")
    if not contact.active:
        return Refusal("inactive_contact", contact)
    if not request.authenticated:
        return Refusal("unauthenticated", contact)
    return contact
