"""The "Open your account" link added to each message at delivery (notifier.account_link):
a retried message carries the same link, and its grant stays as first made."""

from __future__ import annotations

from datetime import timedelta

from notifier.account_link import AccountLinks
from tests.test_outbox import NOW, mail
from vault import sessions
from vault.clock import FixedClock
from vault.links import LinkSigner
from vault.models import Account, Contact, Grant

SECRET = ("test-" + "s" * 40,)


async def test_a_retried_message_links_to_the_grant_its_first_try_made(orm: str) -> None:
    account = await Account.create(account_id="ACME", name="Acme")
    contact = await Contact.create(account=account, email="alice@example.com")
    clock = FixedClock(NOW)
    links = AccountLinks("https://bills.example.com", LinkSigner(SECRET, sessions.ACCOUNT_SALT),
                         timedelta(days=7), clock)
    message = mail("k1", contact_id=contact.id).stamped("m1@example.com", NOW)
    first = await links.url_for(message)
    clock.at = NOW + timedelta(hours=3)  # the retry, later
    assert await links.url_for(message) == first
    (grant,) = await Grant.filter(contact_id=contact.id)
    assert grant.expires_at == NOW + timedelta(days=7)  # the first try's, not extended
    assert first.startswith("https://bills.example.com/a/")
    other = await links.url_for(mail("k2", contact_id=contact.id).stamped("m2@x", NOW))
    assert other != first and await Grant.filter(contact_id=contact.id).count() == 2


async def test_no_link_for_an_inactive_contact(orm: str) -> None:
    account = await Account.create(account_id="ACME", name="Acme")
    contact = await Contact.create(account=account, email="bob@example.com", active=False)
    links = AccountLinks("https://bills.example.com", LinkSigner(SECRET, sessions.ACCOUNT_SALT),
                         timedelta(days=7), FixedClock(NOW))
    assert await links.url_for(mail("k", contact_id=contact.id).stamped("m@x", NOW)) == ""
    assert await Grant.all().count() == 0
