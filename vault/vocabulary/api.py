"""What an API key may do."""

from __future__ import annotations

from enum import StrEnum


class ApiScope(StrEnum):
    INGEST = "ingest"  # POST: store accounts, contacts, invoices, payments
    READ = "read"  # GET: invoices and the changes feed
