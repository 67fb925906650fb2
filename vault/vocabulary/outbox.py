"""The outbox's delivery states and the kinds of message it carries (see notifier.outbox)."""

from __future__ import annotations

from enum import StrEnum


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # a temporary failure: tried again at next_attempt_at
    DEAD = "dead"


class OutboxKind(StrEnum):
    REPLY = "reply"  # an answer to a contact's request
    NOTICE = "notice"  # a neutral notice to an address on file (refusals)
    ALERT = "alert"
    DIGEST = "digest"
    TEST = "test"  # `notify test`
    LINK_CODE = "link_code"  # a chat-linking code, by email
    LINK_LOCKED = "link_locked"  # chat linking locked after wrong codes
    LINK_LINKED = "link_linked"  # a chat was linked: the contact hears of it, can unlink

    @property
    def is_alert(self) -> bool:
        """Carried on a contact's alert route: a dead one switches that route off."""
        return self in (OutboxKind.ALERT, OutboxKind.DIGEST)
