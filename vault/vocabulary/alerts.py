"""How often a contact hears of events, and the states of notifications and digests.

A notification is one event for one contact on one channel:
    waiting -> enqueued (an outbox row with the same key) | digested | cancelled;
    enqueued -> sent, or dead when its outbox row died (the route is then switched off).
"""

from __future__ import annotations

from enum import StrEnum


class Cadence(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


class NotificationState(StrEnum):
    WAITING = "waiting"
    ENQUEUED = "enqueued"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"
    DIGESTED = "digested"


class DigestState(StrEnum):
    ENQUEUED = "enqueued"
    EMPTY = "empty"  # nothing to tell: nothing sent
    SENT = "sent"
    DEAD = "dead"
