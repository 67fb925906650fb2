"""The ways a contact reaches us and we reach them."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SLACK = "slack"
    TELEGRAM = "telegram"
    CLI = "cli"  # `invoicebot ask`: answers printed, never delivered

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_chat(self) -> bool:
        return self in CHAT

    @classmethod
    def deliverable(cls) -> tuple[Channel, ...]:
        """The channels a message can be sent on (alerts, replies, digests)."""
        return (cls.EMAIL, cls.SLACK, cls.TELEGRAM)


CHAT = frozenset({Channel.SLACK, Channel.TELEGRAM})
_LABELS = {Channel.EMAIL: "email", Channel.SLACK: "Slack", Channel.TELEGRAM: "Telegram",
           Channel.CLI: "command line"}
