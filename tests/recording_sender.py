"""RecordingChatSender: a real notifier.delivery.Sender for a chat channel, for tests.

It implements the senders' protocol (channel + async send(recipient, payload)) and keeps
what a chat would show (notifier.message's plain chat text and buttons), so alert routes
to chat can be tested end to end through the outbox. It can be told to refuse, as a
blocked bot is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifier.delivery import DeliveryError
from notifier.message import Outgoing, chat_buttons, loads, plain_text


@dataclass
class ChatDelivery:
    recipient: str
    text: str
    buttons: list[dict[str, str]]


@dataclass
class RecordingChatSender:
    channel: str = "telegram"
    delivered: list[ChatDelivery] = field(default_factory=list)
    refuse_with: str = ""  # e.g. "403 Forbidden: bot was blocked by the user" (permanent)

    async def send(self, recipient: str, payload: bytes) -> None:
        if self.refuse_with:
            raise DeliveryError(self.refuse_with, permanent=True)
        message = loads(payload)
        assert isinstance(message, Outgoing), "queued before Outgoing"
        buttons = [{"label": b.label, "url": b.url} for b in chat_buttons(message)[0]]
        self.delivered.append(ChatDelivery(recipient, plain_text(message), buttons))
