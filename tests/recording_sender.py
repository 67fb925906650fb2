"""RecordingChatSender: a real notifier.delivery.Sender for a chat channel, for tests.

The Slack and Telegram senders live on the chat branch; this one implements the same
protocol (channel + async send(recipient, payload)) and keeps what it was given, decoded
from the chat payload format ({"text", "buttons"}), so alert routes to chat can be tested
end to end through the outbox. It can be told to refuse, as a blocked bot is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from notifier.delivery import DeliveryError


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
        data: dict[str, Any] = json.loads(payload.decode("utf-8"))
        self.delivered.append(ChatDelivery(recipient, data["text"], data["buttons"]))
