"""The vault's tables. Money is Decimal everywhere; datetimes are aware UTC.

Code acting for a contact never queries these directly: it goes through
vault.invoices.AccountScope, which filters every query by the contact's account.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    AP = "ap"
    APPROVER = "approver"
    MANAGER = "manager"


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    VOID = "void"
    DISPUTED = "disputed"


class Account(Model):
    id = fields.IntField(primary_key=True)
    account_id = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    timezone = fields.CharField(max_length=64, default="UTC")
    locale = fields.CharField(max_length=16, default="en")
    tier = fields.CharField(max_length=32, default="standard")
    tax_id = fields.CharField(max_length=64, default="")
    address = fields.TextField(default="")
    # issue 4: when set, only this Slack workspace (team id) may reach the account.
    slack_team_id = fields.CharField(max_length=32, default="")

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
    # file_status: what the source said (void/disputed or ""); status: derived from it,
    # payments and the date.
    file_status = fields.CharField(max_length=16, default="")
    status = fields.CharEnumField(InvoiceStatus, max_length=16, default=InvoiceStatus.OPEN)
    content_hash = fields.CharField(max_length=64)  # of the source rows: unchanged = no-op
    document: fields.ForeignKeyNullableRelation[Document] = fields.ForeignKeyField(
        "vault.Document", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    document_id: int | None
    updated_at = fields.DatetimeField(auto_now=True)

    lines: fields.ReverseRelation[InvoiceLine]

    class Meta:
        table = "invoice"
        # document_id: links re-check ownership per document; status+due_date: the sweep.
        indexes = (
            ("account_id", "issue_date"),
            ("account_id", "status"),
            ("account_id", "document_id"),
            ("status", "due_date"),
        )


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

    class Meta:
        table = "payment"


class Grant(Model):
    """Permission for one contact to fetch some documents until expires_at.

    The signed token in a link only names this row; the row is re-checked on every use.
    """

    id = fields.CharField(max_length=32, primary_key=True)  # random, unguessable
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name="grants", on_delete=fields.CASCADE
    )
    contact_id: int
    document_ids: fields.Field[list[int]] = fields.JSONField()
    label = fields.CharField(max_length=200, default="")  # e.g. the invoice number
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked = fields.BooleanField(default=False)

    class Meta:
        table = "download_grant"


class AuditEvent(Model):
    """Who did what to which document. Action names are dotted: vault.document.download."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    action = fields.CharField(max_length=100)
    account_id = fields.IntField(null=True)
    contact_id = fields.IntField(null=True)
    document_id = fields.IntField(null=True)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=500, default="")
    data: fields.Field[dict[str, object]] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"
        indexes = (("account_id", "at"),)


class InboundMessage(Model):
    """A received email, stored before we answer 250 and processed after."""

    id = fields.IntField(primary_key=True)
    message_key = fields.CharField(max_length=255, unique=True)  # Message-ID or content hash
    raw_message = fields.BinaryField()
    peer = fields.CharField(max_length=64)
    mail_from = fields.CharField(max_length=320, default="")
    rcpt_tos: fields.Field[list[str]] = fields.JSONField()
    received_at = fields.DatetimeField()
    state = fields.CharField(max_length=16, default="received")  # received, processed, failed
    outcome = fields.CharField(max_length=64, default="")
    attempts = fields.IntField(default=0)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbound_message"
        indexes = (("state", "id"),)


class Escalation(Model):
    """Something the bot could not or should not handle alone, for the AR digest."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    kind = fields.CharField(max_length=64)  # unknown_sender, unauthenticated, ...
    account_id = fields.IntField(null=True)
    contact_id = fields.IntField(null=True)
    address = fields.CharField(max_length=320, default="")
    summary = fields.TextField(default="")  # never message content of unverified senders
    source_key = fields.CharField(max_length=255, unique=True)  # idempotent per cause
    resolved = fields.BooleanField(default=False)

    class Meta:
        table = "escalation"


class OutboxMessage(Model):
    """An outgoing message with a delivery state machine (see notifier.outbox)."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=255, unique=True)  # idempotency: one per cause
    channel = fields.CharField(max_length=16, default="email")
    kind = fields.CharField(max_length=32)  # reply, notice, alert, digest
    recipient = fields.CharField(max_length=320)
    message_id = fields.CharField(max_length=255)  # stable across retries
    payload = fields.BinaryField()  # the serialized message
    state = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (("state", "next_attempt_at"), ("recipient", "kind", "created_at"))


# ---- issue 3: statements and disputes ---------------------------------------------------------

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


# ---- chat links (issue 4) ------------------------------------------------------------------


class ChatLink(Model):
    """A Slack or Telegram account proven to belong to a contact on file.

    A chat account is nobody until it has one of these: identity resolves chat requests
    through this row only.
    """

    id = fields.IntField(primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name="chat_links", on_delete=fields.CASCADE
    )
    contact_id: int
    platform = fields.CharField(max_length=16)  # slack, telegram
    team_id = fields.CharField(max_length=32, default="")  # Slack workspace; "" for Telegram
    user_id = fields.CharField(max_length=64)  # the platform's user id
    chat_id = fields.CharField(max_length=64)  # where to send: Slack DM channel, Telegram chat
    linked_at = fields.DatetimeField()

    class Meta:
        table = "chat_link"
        unique_together = (("platform", "team_id", "user_id"),)


class ChatLinkCode(Model):
    """A 6-digit code emailed to a contact's address on file, good only for the chat that
    asked. Stored as an HMAC, never in clear; closed when used, superseded or guessed at
    too often."""

    id = fields.IntField(primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name="chat_link_codes", on_delete=fields.CASCADE
    )
    contact_id: int
    platform = fields.CharField(max_length=16)
    team_id = fields.CharField(max_length=32, default="")
    user_id = fields.CharField(max_length=64)
    chat_id = fields.CharField(max_length=64)
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    tries = fields.IntField(default=0)  # every try counts, the right one too
    closed = fields.BooleanField(default=False)

    class Meta:
        table = "chat_link_code"
        indexes = (("platform", "team_id", "user_id", "closed"), ("contact_id", "created_at"))


class ChatLinkToken(Model):
    """A one-click link offered by email (Telegram deep link, Slack sign-in page).

    `id` is the SHA-256 of the random token: the token itself lives only in the email.
    """

    id = fields.CharField(max_length=64, primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name="chat_link_tokens", on_delete=fields.CASCADE
    )
    contact_id: int
    platform = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "chat_link_token"


class ChatLinkFailure(Model):
    """One wrong code typed for a contact: counted per hour to lock brute force out."""

    id = fields.IntField(primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    at = fields.DatetimeField()

    class Meta:
        table = "chat_link_failure"
        indexes = (("contact_id", "at"),)


class ChatLinkLock(Model):
    """Linking chats to this contact is refused until `until` (after too many failures)."""

    id = fields.IntField(primary_key=True)
    contact: fields.OneToOneRelation[Contact] = fields.OneToOneField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    locked_at = fields.DatetimeField()
    until = fields.DatetimeField()

    class Meta:
        table = "chat_link_lock"


class ChatInbound(Model):
    """A chat message as the platform delivered it, stored before we acknowledge it.

    `key` (slack:<event_id>, telegram:<update_id>) makes retries and replays no-ops; a row
    still `received` after a crash is processed on the next start, like InboundMessage.
    """

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=128, unique=True)
    platform = fields.CharField(max_length=16)
    team_id = fields.CharField(max_length=32, default="")
    user_id = fields.CharField(max_length=64)
    chat_id = fields.CharField(max_length=64)
    text = fields.TextField()
    received_at = fields.DatetimeField()
    state = fields.CharField(max_length=16, default="received")  # received, processed
    outcome = fields.CharField(max_length=64, default="")
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "chat_inbound"
        indexes = (("state", "id"), ("received_at",))


# ---- alerts (issue 5)


class InvoiceEvent(Model):
    """Something that happened to an invoice, written in the same transaction as the change
    (a transactional outbox): the notifier expands each into notifications, once."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    kind = fields.CharField(max_length=32)  # invoice.issued, invoice.status_changed, ...
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name=False, on_delete=fields.CASCADE
    )
    account_id: int
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "vault.Invoice", related_name="events", on_delete=fields.CASCADE
    )
    invoice_id: int
    old_status = fields.CharField(max_length=16, default="")
    new_status = fields.CharField(max_length=16, default="")
    amount = fields.DecimalField(max_digits=18, decimal_places=2, null=True)  # a payment's
    cause = fields.CharField(max_length=32, default="")  # import, payments, sweep, dispute
    key = fields.CharField(max_length=255, unique=True, null=True)  # once-only events
    expanded = fields.BooleanField(default=False)

    class Meta:
        table = "invoice_event"
        indexes = (("expanded", "id"),)


class AlertPreference(Model):
    """A contact's alert settings, once changed (without a row: the tier's defaults).

    See notifier.preferences.
    """

    id = fields.IntField(primary_key=True)
    contact: fields.OneToOneRelation[Contact] = fields.OneToOneField(
        "vault.Contact", related_name="alert_preference", on_delete=fields.CASCADE
    )
    contact_id: int
    channels: fields.Field[list[str]] = fields.JSONField()
    events: fields.Field[list[str]] = fields.JSONField()
    cadence = fields.CharField(max_length=16)  # instant, daily, weekly
    quiet_start = fields.CharField(max_length=5, default="")  # HH:MM local, "" = none
    quiet_end = fields.CharField(max_length=5, default="")
    stopped = fields.BooleanField(default=False)
    # Routes switched off after a permanent delivery failure, until set again.
    disabled: fields.Field[list[str]] = fields.JSONField(default=list)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "alert_preference"


class Digest(Model):
    """One digest per recipient and period: a second tick for the same period does nothing."""

    id = fields.IntField(primary_key=True)
    recipient = fields.CharField(max_length=100)  # contact:{id}:{channel} or ar
    period = fields.CharField(max_length=32)  # the local date or ISO week it covers
    covers_until = fields.DatetimeField()  # items before this moment
    items = fields.IntField(default=0)
    outbox_key = fields.CharField(max_length=255, default="")  # "" when empty: not sent
    state = fields.CharField(max_length=16, default="enqueued")  # enqueued, empty, dead
    created_at = fields.DatetimeField()

    class Meta:
        table = "digest"
        unique_together = (("recipient", "period"),)


class Notification(Model):
    """One event for one contact on one channel, key alert:{event}:{contact}:{channel}.

    waiting -> enqueued (an outbox row with the same key) | digested | cancelled;
    enqueued -> dead when its outbox row died (the route is then switched off).
    """

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=255, unique=True)
    event: fields.ForeignKeyRelation[InvoiceEvent] = fields.ForeignKeyField(
        "vault.InvoiceEvent", related_name=False, on_delete=fields.CASCADE
    )
    event_id: int
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    channel = fields.CharField(max_length=16)
    cadence = fields.CharField(max_length=16)
    state = fields.CharField(max_length=16, default="waiting")
    deliver_after = fields.DatetimeField()  # quiet hours push this to their end
    digest: fields.ForeignKeyNullableRelation[Digest] = fields.ForeignKeyField(
        "vault.Digest", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    digest_id: int | None
    created_at = fields.DatetimeField()

    class Meta:
        table = "notification"
        indexes = (("state", "cadence", "deliver_after"), ("contact_id", "state"))


class DigestItem(Model):
    """An escalation listed in an AR digest: each is listed in exactly one."""

    id = fields.IntField(primary_key=True)
    digest: fields.ForeignKeyRelation[Digest] = fields.ForeignKeyField(
        "vault.Digest", related_name=False, on_delete=fields.CASCADE
    )
    digest_id: int
    escalation: fields.OneToOneRelation[Escalation] = fields.OneToOneField(
        "vault.Escalation", related_name=False, on_delete=fields.CASCADE
    )
    escalation_id: int

    class Meta:
        table = "digest_item"
