"""Signed links: tokens name a grant row, and the row is re-checked on every use."""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from vault import links
from vault.clock import SYSTEM
from vault.config import Config
from vault.invoices import AccountScope
from vault.links import GrantRefused, LinkSigner, Refusal
from vault.models import Account, AuditEvent, Contact, Document, Grant, Invoice

OLD, NEW = "k" * 40, "n" * 40
WEEK = timedelta(days=7)


@dataclass
class Party:
    """One customer account with one AP contact and one invoiced document."""

    account: Account
    contact: Contact
    document: Document

    async def scope(self) -> AccountScope:
        return await AccountScope.for_contact(self.contact)


async def make_party(code: str, number: str) -> Party:
    account = await Account.create(account_id=code, name=code.title())
    contact = await Contact.create(account=account, email=f"ap@{code.lower()}.example")
    data = f"%PDF-1.7 {number}".encode()
    document = await Document.create(
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), crc32=zlib.crc32(data),
        storage_key=f"{number}.pdf",
    )
    await Invoice.create(
        account=account, number=number, issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31),
        currency="EUR", subtotal=Decimal(100), tax_total=Decimal(0), total=Decimal(100),
        content_hash="x", document=document,
    )
    return Party(account, contact, document)


@pytest.fixture
async def acme(orm: str) -> Party:
    return await make_party("ACME", "INV-2026-0042")


@pytest.fixture
async def beta(orm: str) -> Party:
    return await make_party("BETA", "INV-2026-0099")


@pytest.fixture
def signer(config: Config) -> LinkSigner:
    return LinkSigner(config.secret_keys)


# ---- the signer ---------------------------------------------------------------------------

def test_token_round_trips_to_the_grant_id(config: Config) -> None:
    signer = LinkSigner(config.secret_keys)
    assert signer.unsign(signer.sign("abc123")) == "abc123"


@pytest.mark.parametrize("mangle", [
    # signature changed (not its last character: base64's spare bits may decode the same)
    lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],
    lambda t: "x" + t[1:],  # payload changed
    lambda t: t.split(".")[0],  # signature cut off
    lambda t: "",
    lambda t: "not a token at all",
])
def test_tampered_token_is_rejected(signer: LinkSigner, mangle: Callable[[str], str]) -> None:
    assert signer.unsign(mangle(signer.sign("abc123"))) is None


def test_token_for_another_purpose_does_not_verify(config: Config) -> None:
    other = LinkSigner(config.secret_keys, salt="invoicebot.something-else")
    assert LinkSigner(config.secret_keys).unsign(other.sign("abc123")) is None


def test_link_signed_with_old_key_still_verifies_after_rotation() -> None:
    before_rotation = LinkSigner((OLD,)).sign("abc123")
    assert LinkSigner((OLD, NEW)).unsign(before_rotation) == "abc123"


def test_newest_key_signs() -> None:
    after_rotation = LinkSigner((OLD, NEW)).sign("abc123")
    assert LinkSigner((NEW,)).unsign(after_rotation) == "abc123"
    assert LinkSigner((OLD,)).unsign(after_rotation) is None


def test_removing_a_key_invalidates_its_links() -> None:
    before_rotation = LinkSigner((OLD,)).sign("abc123")
    assert LinkSigner((NEW,)).unsign(before_rotation) is None


def test_signer_without_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="INVOICEBOT_SECRET_KEYS"):
        LinkSigner(())


# ---- grants ---------------------------------------------------------------------------------

async def test_grant_is_a_row_naming_contact_documents_and_expiry(acme: Party) -> None:
    now = SYSTEM.now()
    row = await links.grant(await acme.scope(), [acme.document], "INV-2026-0042", WEEK, now)
    stored = await Grant.get(id=row.id)
    assert (stored.contact_id, stored.document_ids, stored.label) == (
        acme.contact.id, [acme.document.id], "INV-2026-0042")
    assert stored.expires_at == now + WEEK
    assert 16 <= len(stored.id) <= 32 and not stored.revoked
    event = await AuditEvent.get(action="vault.link.granted")
    assert event.contact_id == acme.contact.id and event.data["grant"] == row.id


async def test_grant_ids_are_random(acme: Party) -> None:
    scope = await acme.scope()
    ids = {(await links.grant(scope, [acme.document], "x", WEEK, SYSTEM.now())).id
           for _ in range(5)}
    assert len(ids) == 5


async def test_another_accounts_document_cannot_be_granted(acme: Party, beta: Party) -> None:
    with pytest.raises(GrantRefused):
        await links.grant(await beta.scope(), [acme.document], "INV-2026-0042", WEEK, SYSTEM.now())
    with pytest.raises(GrantRefused):  # not even mixed in with the contact's own
        await links.grant(await beta.scope(), [beta.document, acme.document], "mix", WEEK,
                          SYSTEM.now())
    assert await Grant.all().count() == 0


async def test_grant_needs_documents_and_an_active_contact(acme: Party) -> None:
    with pytest.raises(GrantRefused):
        await links.grant(await acme.scope(), [], "nothing", WEEK, SYSTEM.now())
    acme.contact.active = False
    with pytest.raises(GrantRefused):
        await links.grant(await acme.scope(), [acme.document], "x", WEEK, SYSTEM.now())


def test_link_url_is_public_url_slash_d_token(signer: LinkSigner) -> None:
    row = Grant(id="abc123")
    url = links.link_url("https://vault.example/", signer, row)
    assert url.startswith("https://vault.example/d/")
    assert signer.unsign(url.rpartition("/")[2]) == "abc123"


# ---- opening a link ---------------------------------------------------------------------------

async def _token(
    party: Party, signer: LinkSigner, now: datetime | None = None
) -> tuple[Grant, str]:
    row = await links.grant(await party.scope(), [party.document], "INV", WEEK, now or SYSTEM.now())
    return row, signer.sign(row.id)


async def _reason(signer: LinkSigner, token: str) -> str:
    checked = await links.check_grant(signer, token, SYSTEM.now())
    return checked.reason if isinstance(checked, Refusal) else "accepted"


async def test_open_grant_returns_the_grant_and_contact(acme: Party, signer: LinkSigner) -> None:
    row, token = await _token(acme, signer)
    opened = await links.open_grant(signer, token, SYSTEM.now())
    assert opened is not None
    assert (opened[0].id, opened[1].id) == (row.id, acme.contact.id)


async def test_expiry_comes_from_the_row_not_the_token(acme: Party, signer: LinkSigner) -> None:
    row, token = await _token(acme, signer, now=SYSTEM.now() - timedelta(days=8))
    assert await links.check_grant(signer, token, SYSTEM.now()) == Refusal(
        "expired", row.id, acme.contact.id, acme.account.id)
    await Grant.filter(id=row.id).update(expires_at=SYSTEM.now() + timedelta(hours=1))
    assert await links.open_grant(signer, token, SYSTEM.now()) is not None  # extended: works again


async def test_revoked_grant_is_refused(acme: Party, signer: LinkSigner) -> None:
    row, token = await _token(acme, signer)
    assert await links.revoke(row.id) is True
    assert await links.open_grant(signer, token, SYSTEM.now()) is None
    assert await _reason(signer, token) == "revoked"
    assert await AuditEvent.filter(action="vault.link.revoked").count() == 1


async def test_revoking_an_unknown_grant_says_so(orm: str) -> None:
    assert await links.revoke("no-such-grant") is False


async def test_deactivated_contact_is_refused(acme: Party, signer: LinkSigner) -> None:
    _, token = await _token(acme, signer)
    await Contact.filter(id=acme.contact.id).update(active=False)
    assert await links.open_grant(signer, token, SYSTEM.now()) is None
    assert await _reason(signer, token) == "contact_inactive"


async def test_unknown_and_tampered_tokens_are_refused(acme: Party, signer: LinkSigner) -> None:
    assert await links.check_grant(signer, signer.sign("never-granted"), SYSTEM.now()) == Refusal(
        "unknown_grant", "never-granted")
    _, token = await _token(acme, signer)
    assert await links.check_grant(signer, token + "x", SYSTEM.now()) == Refusal("bad_signature")


async def test_documents_are_re_read_through_the_contacts_current_account(
    acme: Party, beta: Party, signer: LinkSigner
) -> None:
    row, _ = await _token(acme, signer)
    assert await links.granted_documents(row, acme.contact) == [acme.document]
    await Contact.filter(id=acme.contact.id).update(account_id=beta.account.id)
    moved = await Contact.get(id=acme.contact.id)
    assert await links.granted_documents(row, moved) is None


# ---- keeping tokens out of logs -----------------------------------------------------------------

def test_redact_path_hides_the_token(signer: LinkSigner) -> None:
    token = signer.sign("abc123")
    assert links.redact_path(f"/d/{token}") == "/d/<redacted>"
    assert links.redact_path(f'GET https://x.example/d/{token}?a=1 "200"') == (
        'GET https://x.example/d/<redacted>?a=1 "200"')
    assert links.redact_path("/healthz") == "/healthz"
    # A one-click Slack link page is as good as the contact's identity until it is used.
    assert links.redact_path(f"/slack/link/{token}") == "/slack/link/<redacted>"
    assert links.redact_path("/slack/link/done?code=x") == "/slack/link/done?code=x"


def test_log_filter_redacts_message_and_arguments(signer: LinkSigner) -> None:
    token = signer.sign("abc123")
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "GET %s" %d', ("1.2.3.4", f"/d/{token}", 200), None)
    assert links.RedactTokens().filter(record)
    assert token not in record.getMessage()
    assert "/d/<redacted>" in record.getMessage()
