"""Chat accounts linked to contacts, and the state that guards linking (codes, one-click
tokens, failures, locks) and stores chat deliveries before they are acknowledged."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from vault.models.ledger import Contact
from vault.vocabulary import Channel, InboundState


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
    """An 8-digit code emailed to a contact's address on file, good only for the chat that
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
    """One wrong code typed for a contact, and by which chat account: counted per contact
    (bursts), per chat account and overall (see bot.chatguard)."""

    id = fields.IntField(primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    at = fields.DatetimeField()
    # The chat account that typed it (slack:T:U, telegram:U); "" on rows from before 0007.
    chat_address = fields.CharField(max_length=128, default="", db_index=True)

    class Meta:
        table = "chat_link_failure"
        indexes = (("contact_id", "at"),)


class ChatLinkBudget(Model):
    """Every wrong code ever typed for a contact (NIST SP 800-63B 5.2.2: at most 100).

    Unlike ChatLinkFailure it never ages out: when `failures` reaches the budget linking
    stays locked (`exhausted_at`) until `invoicebot chat unlock --contact` resets it.
    """

    id = fields.IntField(primary_key=True)
    contact: fields.OneToOneRelation[Contact] = fields.OneToOneField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    failures = fields.IntField(default=0)
    exhausted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "chat_link_budget"


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
    platform = fields.CharEnumField(Channel, max_length=16)
    team_id = fields.CharField(max_length=32, default="")
    user_id = fields.CharField(max_length=64)
    chat_id = fields.CharField(max_length=64)
    text = fields.TextField()
    received_at = fields.DatetimeField()
    state = fields.CharEnumField(InboundState, max_length=16, default=InboundState.RECEIVED)
    outcome = fields.CharField(max_length=64, default="")
    attempts = fields.IntField(default=0)  # processing tries that failed
    processed_at = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=100, default="", db_default="")  # as InboundMessage

    class Meta:
        table = "chat_inbound"
        indexes = (("state", "id"), ("received_at",))
