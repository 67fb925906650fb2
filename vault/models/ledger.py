"""The ledger: accounts, contacts, invoices, their lines, payments and documents, and the
statements and disputes built on them. Money is Decimal everywhere; datetimes are aware UTC.

Code acting for a contact never queries these directly: it goes through
vault.invoices.AccountScope, which filters every query by the contact's account.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

# Defined in vault.vocabulary; still importable from here (and vault.models): migration
# 0001 imports them from vault.models.
from vault.vocabulary import InvoiceStatus, Role, Source

__all__ = [
    "Account", "Contact", "CreditNote", "CreditNoteLine", "Dispute", "Document", "Invoice",
    "InvoiceLine", "InvoiceStatus", "Payment", "Receipt", "Role", "Statement",
]


class Account(Model):
    id = fields.IntField(primary_key=True)
    account_id = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    timezone = fields.CharField(max_length=64, default="UTC")
    locale = fields.CharField(max_length=16, default="en")
    tier = fields.CharField(max_length=32, default="standard")
    tax_id = fields.CharField(max_length=64, default="")
    address = fields.TextField(default="")
    # When set, only this Slack workspace (team id) may reach the account.
    slack_team_id = fields.CharField(max_length=32, default="")
    # access.step_up for this account: never, downloads, session; "": the tier's or global.
    # db_default: accounts from before the column have none of their own.
    step_up = fields.CharField(max_length=16, default="", db_default="")

    class Meta:
        table = "account"


class Contact(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name="contacts", on_delete=fields.RESTRICT
    )
    account_id: int
    email = fields.CharField(max_length=254, unique=True)  # stored lower-cased
    name = fields.CharField(max_length=200, default="")
    role = fields.CharEnumField(Role, max_length=16, default=Role.AP)
    locale = fields.CharField(max_length=16, default="")  # empty: the account's
    timezone = fields.CharField(max_length=64, default="")  # empty: the account's
    active = fields.BooleanField(default=True)
    # The language the contact asked to be answered in ("answer in German"): a catalogue
    # language of vault.i18n, or empty (then the locale, else the request's language).
    answer_language = fields.CharField(max_length=8, default="", db_default="")

    class Meta:
        table = "contact"


class Document(Model):
    """An immutable file in the vault, addressed by its content."""

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, unique=True)
    size = fields.BigIntField()
    crc32 = fields.BigIntField()
    storage_key = fields.CharField(max_length=200)
    content_type = fields.CharField(max_length=100, default="application/pdf")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "document"


class Invoice(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name="invoices", on_delete=fields.RESTRICT
    )
    account_id: int
    # Invoice numbers are unique across the seller, as tax law expects of a number series.
    number = fields.CharField(max_length=64, unique=True)
    issue_date = fields.DateField()
    due_date = fields.DateField()
    currency = fields.CharField(max_length=3)
    entity = fields.CharField(max_length=200, default="")
    po_number = fields.CharField(max_length=64, default="")
    subtotal = fields.DecimalField(max_digits=18, decimal_places=2)
    tax_total = fields.DecimalField(max_digits=18, decimal_places=2)
    total = fields.DecimalField(max_digits=18, decimal_places=2)
    amount_paid = fields.DecimalField(max_digits=18, decimal_places=2, default=0)
    # The sum of the credit notes allocated to it (vault.ingest.credit_notes keeps it).
    amount_credited = fields.DecimalField(max_digits=18, decimal_places=2, default=0,
                                          db_default=0)
    # file_status: what the source said (void/disputed or ""); status: derived from it,
    # payments and the date.
    file_status = fields.CharField(max_length=16, default="")
    status = fields.CharEnumField(InvoiceStatus, max_length=16, default=InvoiceStatus.OPEN)
    content_hash = fields.CharField(max_length=64)  # of the source rows: unchanged = no-op
    # Where it came from and, when the source has one, its own id: a repeated call of that
    # source finds the invoice by it. db_default: rows from before the column are from CSV.
    source = fields.CharEnumField(Source, max_length=16, default=Source.CSV,
                                  db_default=Source.CSV)
    external_id = fields.CharField(max_length=200, null=True)
    document: fields.ForeignKeyNullableRelation[Document] = fields.ForeignKeyField(
        "vault.Document", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    document_id: int | None
    # Set while a render queue worker (vault.render_queue) has it; cleared with its PDF.
    render_claimed_until = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    lines: fields.ReverseRelation[InvoiceLine]

    class Meta:
        table = "invoice"
        # document_id: links re-check ownership per document; status+due_date: the sweep;
        # document_id+issue_date: the render queue (no document, newest first).
        indexes = (
            ("account_id", "issue_date"),
            ("account_id", "status"),
            ("account_id", "document_id"),
            ("status", "due_date"),
            ("document_id", "issue_date"),
        )
        unique_together = (("source", "external_id"),)


class InvoiceLine(Model):
    id = fields.IntField(primary_key=True)
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "vault.Invoice", related_name="lines", on_delete=fields.CASCADE
    )
    invoice_id: int
    position = fields.IntField()
    description = fields.TextField()
    quantity = fields.DecimalField(max_digits=18, decimal_places=4)
    unit_price = fields.DecimalField(max_digits=18, decimal_places=4)
    tax_rate = fields.DecimalField(max_digits=7, decimal_places=3, default=0)
    amount = fields.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        table = "invoice_line"
        unique_together = (("invoice", "position"),)


class Payment(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name="payments", on_delete=fields.RESTRICT
    )
    account_id: int
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "vault.Invoice", related_name="payments", on_delete=fields.RESTRICT
    )
    invoice_id: int
    # reference if given, else paid_on+amount: re-importing a file matches the same row.
    natural_key = fields.CharField(max_length=200, unique=True)
    amount = fields.DecimalField(max_digits=18, decimal_places=2)
    paid_on = fields.DateField()
    reference = fields.CharField(max_length=200, default="")
    method = fields.CharField(max_length=64, default="")
    source = fields.CharEnumField(Source, max_length=16, default=Source.CSV,  # as an invoice's
                                  db_default=Source.CSV)
    external_id = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "payment"
        unique_together = (("source", "external_id"),)
        # A listing reads its invoices' payments (AccountScope.last_paid, seen); PostgreSQL
        # makes no index for a foreign key by itself.
        indexes = (("account_id", "invoice_id"),)


class Statement(Model):
    """A statement of account rendered on request. Its document belongs to the account,
    so links to it are re-checked through the account scope like invoice links."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name="statements", on_delete=fields.RESTRICT
    )
    account_id: int
    document: fields.ForeignKeyRelation[Document] = fields.ForeignKeyField(
        "vault.Document", related_name=False, on_delete=fields.RESTRICT
    )
    document_id: int
    period_start = fields.DateField()
    period_end = fields.DateField()
    as_of = fields.DateField()
    contact_id = fields.IntField(null=True)  # who asked first
    created_at = fields.DatetimeField()

    class Meta:
        table = "statement"
        unique_together = (("account", "document"),)


class Receipt(Model):
    """The receipt of one payment: a PDF issued after the payment was committed, offered
    next to the invoice (which stays the document as issued)."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name=False, on_delete=fields.RESTRICT
    )
    account_id: int
    payment: fields.ForeignKeyRelation[Payment] = fields.ForeignKeyField(
        "vault.Payment", related_name=False, on_delete=fields.CASCADE, unique=True
    )
    payment_id: int
    document: fields.ForeignKeyRelation[Document] = fields.ForeignKeyField(
        "vault.Document", related_name=False, on_delete=fields.RESTRICT
    )
    document_id: int
    created_at = fields.DatetimeField()

    class Meta:
        table = "receipt"
        indexes = (("account_id", "document_id"),)


class Dispute(Model):
    """A contact's dispute of one invoice: who, when, why, and the status it had before."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name="disputes", on_delete=fields.RESTRICT
    )
    account_id: int
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "vault.Invoice", related_name="disputes", on_delete=fields.CASCADE
    )
    invoice_id: int
    contact_id = fields.IntField(null=True)
    at = fields.DatetimeField()
    reason = fields.TextField(default="")
    previous_status = fields.CharField(max_length=16)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "dispute"
        indexes = (("account_id", "invoice_id"),)


class CreditNote(Model):
    """A credit note: money the seller owes back to the account, issued once with its own
    number and PDF. Allocated to an invoice, it reduces what that invoice still owes
    (vault.amounts); with no invoice it is an unallocated credit on the account."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name="credit_notes", on_delete=fields.RESTRICT
    )
    account_id: int
    # Unique across the seller, as invoice numbers are (credit notes are a number series).
    number = fields.CharField(max_length=64, unique=True)
    invoice: fields.ForeignKeyNullableRelation[Invoice] = fields.ForeignKeyField(
        "vault.Invoice", related_name="credit_notes", null=True, on_delete=fields.RESTRICT
    )
    invoice_id: int | None
    issue_date = fields.DateField()
    currency = fields.CharField(max_length=3)
    subtotal = fields.DecimalField(max_digits=18, decimal_places=2)
    tax_total = fields.DecimalField(max_digits=18, decimal_places=2)
    amount = fields.DecimalField(max_digits=18, decimal_places=2)  # the total credited
    reason = fields.TextField(default="")
    content_hash = fields.CharField(max_length=64)  # unchanged = no-op, as for invoices
    source = fields.CharEnumField(Source, max_length=16, default=Source.CSV)
    external_id = fields.CharField(max_length=200, null=True)
    document: fields.ForeignKeyNullableRelation[Document] = fields.ForeignKeyField(
        "vault.Document", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    document_id: int | None
    updated_at = fields.DatetimeField(auto_now=True)

    lines: fields.ReverseRelation[CreditNoteLine]

    class Meta:
        table = "credit_note"
        indexes = (("account_id", "issue_date"), ("account_id", "document_id"))
        unique_together = (("source", "external_id"),)


class CreditNoteLine(Model):
    """What a credit note credits, as invoice lines do (net amount, tax rate)."""

    id = fields.IntField(primary_key=True)
    credit_note: fields.ForeignKeyRelation[CreditNote] = fields.ForeignKeyField(
        "vault.CreditNote", related_name="lines", on_delete=fields.CASCADE
    )
    credit_note_id: int
    position = fields.IntField()
    description = fields.TextField()
    quantity = fields.DecimalField(max_digits=18, decimal_places=4)
    unit_price = fields.DecimalField(max_digits=18, decimal_places=4)
    tax_rate = fields.DecimalField(max_digits=7, decimal_places=3, default=0)
    amount = fields.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        table = "credit_note_line"
        unique_together = (("credit_note", "position"),)
