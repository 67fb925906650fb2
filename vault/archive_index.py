"""A ZIP's table of contents: member names and index.csv, read through the account scope."""

from __future__ import annotations

import io
import re
from typing import Any

from vault.csvsafe import SafeCsvWriter
from vault.invoices import AccountScope
from vault.models import Contact, Document

INDEX_NAME = "index.csv"
CREDIT_NOTE = "credit note"  # its status column in index.csv
INDEX_COLUMNS = ("number", "issue_date", "due_date", "amount", "currency", "status", "file")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


async def archive_index(contact: Contact, documents: list[Document]) -> tuple[list[str], bytes]:
    """Member names and the index.csv describing them, read through the account scope.

    The index lists each invoice PDF (number, dates, amount, currency, status, file name)
    as it stands now, in the ZIP's order, and each credit note PDF (its amount negative,
    status "credit note", no due date); any other document is left out.
    """
    scope = await AccountScope.for_contact(contact)
    rows = await scope.invoices().filter(document_id__in=[d.id for d in documents]).values(
        "document_id", "number", "issue_date", "due_date", "total", "currency", "status"
    )
    invoices: dict[Any, dict[str, Any]] = {row["document_id"]: row for row in rows}
    for note in await scope.credit_notes_between(None, None):
        if note.document_id is not None and note.document_id not in invoices:
            invoices[note.document_id] = {
                "number": note.number, "issue_date": note.issue_date, "due_date": "",
                "total": -note.amount, "currency": note.currency, "status": CREDIT_NOTE}
    names = [f"{invoices[d.id]['number']}.pdf" if d.id in invoices else f"document-{d.id}.pdf"
             for d in documents]
    out = io.StringIO()
    writer = SafeCsvWriter(out, lineterminator="\r\n")
    writer.writerow(INDEX_COLUMNS)
    for document, name in zip(documents, names, strict=True):
        if (row := invoices.get(document.id)) is not None:
            writer.writerow([row["number"], row["issue_date"], row["due_date"], row["total"],
                             row["currency"], row["status"], safe_member_name(name, document)])
    return names, out.getvalue().encode("utf-8")


def safe_member_name(name: str, document: Document) -> str:
    """A member name no unzip tool can take for a path outside the folder."""
    return _UNSAFE_NAME.sub("_", name).lstrip(".") or f"document-{document.id}.pdf"
