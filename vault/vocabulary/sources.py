"""Where an invoice or payment came from: each way into the vault names itself."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    CSV = "csv"  # `invoicebot import`
    API = "api"  # POST /api/v1/...
    STRIPE = "stripe"
    FEED = "feed"  # the watched feed folder
