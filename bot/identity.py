"""Who is asking: a Request's address must be an active contact, proven by the channel.

On email the address is the sender's, authenticated by the relay or DKIM. On chat it is
the platform's account ("slack:T123:U456", "telegram:98765"), vouched for by the platform's
signed delivery, and it is somebody only through a ChatLink to a contact on file.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.maildomain import ascii_lower
from bot.messages import Request
from vault.models import ChatLink, Contact
from vault.vocabulary import Channel, EscalationKind


@dataclass(frozen=True)
class Refusal:
    """Why a request gets no invoice data. `contact` is set when the address is on file."""

    # unknown_sender, unauthenticated, inactive_contact; on chat: unlinked, wrong_workspace
    kind: EscalationKind
    contact: Contact | None = None


def chat_address(platform: str, team_id: str, user_id: str) -> str:
    """The Request address of a chat account: slack:TEAM:USER or telegram:USER."""
    if platform == Channel.SLACK:
        return f"slack:{team_id}:{user_id}"
    return f"{platform}:{user_id}"


def parse_chat_address(address: str) -> tuple[str, str, str]:
    """(platform, team_id, user_id) of a chat address; ValueError if it is not one."""
    platform, _, rest = address.partition(":")
    if platform == Channel.SLACK:
        team_id, _, user_id = rest.partition(":")
    else:
        team_id, user_id = "", rest
    if not _is_chat(platform) or not user_id:
        raise ValueError(f"not a chat address: {address!r}")
    return platform, team_id, user_id


def workspace_allowed(slack_team_id: str, platform: str, team_id: str) -> bool:
    """An account restricted to one Slack workspace hears nothing from another one."""
    return platform != Channel.SLACK or not slack_team_id or slack_team_id == team_id


def _is_chat(channel: str) -> bool:
    return channel in {c.value for c in Channel if c.is_chat}


async def identify(request: Request) -> Contact | Refusal:
    if _is_chat(request.channel):
        return await _chat_contact(request)
    # ASCII only: str.lower() would turn a Kelvin sign into the "k" of a contact's address.
    contact = await Contact.get_or_none(email=ascii_lower(request.address))
    if contact is None:
        return Refusal(EscalationKind.UNKNOWN_SENDER)
    if not contact.active:
        return Refusal(EscalationKind.INACTIVE_CONTACT, contact)
    if not request.authenticated:
        return Refusal(EscalationKind.UNAUTHENTICATED, contact)
    return contact


async def _chat_contact(request: Request) -> Contact | Refusal:
    platform, team_id, user_id = parse_chat_address(request.address)
    if platform != request.channel or not request.authenticated:
        return Refusal(EscalationKind.UNLINKED)
    link = await ChatLink.get_or_none(
        platform=platform, team_id=team_id, user_id=user_id
    ).select_related("contact__account")
    if link is None:
        return Refusal(EscalationKind.UNLINKED)
    contact = link.contact
    if not contact.active:
        return Refusal(EscalationKind.INACTIVE_CONTACT, contact)
    if not workspace_allowed(contact.account.slack_team_id, platform, team_id):
        return Refusal(EscalationKind.WRONG_WORKSPACE, contact)
    return contact
