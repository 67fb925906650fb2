"""The states of a received message (email or chat), stored before it is acknowledged.

    received ──processed──> processed
        └──(MAX attempts failed)──> failed (set aside for AR, kept whole)
"""

from __future__ import annotations

from enum import StrEnum


class InboundState(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
