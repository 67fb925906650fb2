"""How one request ended, as the metrics, the JSON log line and `invoicebot report` count it.

    answered        a verified contact got the answer it asked for
    escalated       handed to a person (a dispute, "talk to a person")
    not_understood  a verified contact, but nothing in the message was understood
    unverified      the sender could not be proven (email not authenticated, chat not linked)
    refused         proven or not, no data for them (unknown, inactive, wrong workspace)
"""

from __future__ import annotations

from enum import StrEnum


class RequestOutcome(StrEnum):
    ANSWERED = "answered"
    ESCALATED = "escalated"
    NOT_UNDERSTOOD = "not_understood"
    UNVERIFIED = "unverified"
    REFUSED = "refused"
