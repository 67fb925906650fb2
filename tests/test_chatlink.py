"""Linking chat accounts: codes, tries, locks, tokens and what the answers reveal, checked
through the Linker against a real database; the emails are read from the outbox rows."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest

from bot.chatguard import LOCK_AFTER, ChatUser, Guard
from bot.chatlink import MAX_TRIES, LinkCommand, Linker, code_hash, link_command
from bot.identity import Refusal, identify
from bot.messages import Request
from notifier.email_send import wire
from vault.clock import SYSTEM, FixedClock
from vault.config import Config
from vault.models import (
    Account,
    AuditEvent,
    ChatLink,
    ChatLinkCode,
    ChatLinkLock,
    Contact,
    Escalation,
    OutboxMessage,
)

SECRET = "s" * 40
ANNA = ChatUser("slack", "T0ACME", "U0ANNA", "D0ANNA")
EVE = ChatUser("slack", "T0ACME", "U0EVE", "D0EVE")


@pytest.fixture
async def contact(orm: str) -> Contact:
    account = await Account.create(account_id="ACME", name="ACME Freight GmbH",
                                   slack_team_id="T0ACME")
    return await Contact.create(account=account, email="ap@acme.example")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SYSTEM.now())


@pytest.fixture
def linker(clock: FixedClock, config: Config) -> Linker:
    return Linker(Guard(config.email), SECRET, clock)


async def ask_code(linker: Linker, user: ChatUser = ANNA) -> str:
    """Ask for a code as `user`; the code from the newest mail in the outbox."""
    await linker.run(LinkCommand("link", "ap@acme.example"), user)
    row = await OutboxMessage.filter(kind="link_code").order_by("-id").first()
    assert row is not None and row.recipient == "ap@acme.example"
    msg = email.message_from_bytes(wire(bytes(row.payload)), policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    match = re.search(r"Your code is (\d{6})\.", body.get_content())
    assert match
    return match[1]


async def type_code(linker: Linker, code: str, user: ChatUser = ANNA) -> str:
    reply = await linker.run(LinkCommand("code", code), user)
    assert reply is not None
    return reply.intro


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_a_code_is_mailed_to_the_address_on_file_and_stored_only_hashed(
    linker: Linker, contact: Contact
) -> None:
    code = await ask_code(linker)
    row = await ChatLinkCode.get(contact_id=contact.id)
    assert len(code) == 6 and code not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at - row.created_at == timedelta(minutes=10)
    assert "Linked" in await type_code(linker, code)
    assert await ChatLink.get(user_id="U0ANNA", contact_id=contact.id)


async def test_the_answer_never_reveals_whether_an_address_is_on_file(
    linker: Linker, contact: Contact
) -> None:
    known = await linker.run(LinkCommand("link", "ap@acme.example"), ANNA)
    unknown = await linker.run(LinkCommand("link", "nobody@acme.example"), EVE)
    assert known is not None and unknown is not None
    assert known.intro.replace("ap@", "X@") == unknown.intro.replace("nobody@", "X@")
    assert await OutboxMessage.filter(kind="link_code").count() == 1
    refusal = await AuditEvent.get(action="bot.chat.link.refused")
    assert refusal.data["reason"] == "unknown_address"


async def test_a_code_works_only_in_the_chat_that_asked(linker: Linker, contact: Contact) -> None:
    code = await ask_code(linker, ANNA)
    assert "not valid" in await type_code(linker, code, EVE)
    assert not await ChatLink.exists()
    assert "Linked" in await type_code(linker, code, ANNA)


async def test_a_code_expires_after_ten_minutes_and_is_single_use(
    linker: Linker, contact: Contact, clock: FixedClock
) -> None:
    code = await ask_code(linker)
    clock.at += timedelta(minutes=10, seconds=1)
    assert "not valid" in await type_code(linker, code)
    code = await ask_code(linker)
    assert "Linked" in await type_code(linker, code)
    await linker.run(LinkCommand("unlink"), ANNA)
    assert "not valid" in await type_code(linker, code)


async def test_a_new_code_voids_the_older_one(linker: Linker, contact: Contact) -> None:
    first = await ask_code(linker)
    second = await ask_code(linker)
    if first != second:
        assert "not valid" in await type_code(linker, first)
    assert "Linked" in await type_code(linker, second)


async def test_the_sixth_try_fails_even_with_the_right_code(
    linker: Linker, contact: Contact
) -> None:
    code = await ask_code(linker)
    for _ in range(MAX_TRIES):
        assert "not valid" in await type_code(linker, wrong(code))
    assert "not valid" in await type_code(linker, code)
    assert not await ChatLink.exists()


async def test_a_hundred_failures_in_an_hour_lock_linking_and_tell_the_contact(
    linker: Linker, contact: Contact, clock: FixedClock
) -> None:
    failures = 0
    while failures < LOCK_AFTER:
        code = await ask_code(linker)
        for _ in range(min(MAX_TRIES, LOCK_AFTER - failures)):
            await type_code(linker, wrong(code))
            failures += 1
    lock = await ChatLinkLock.get(contact_id=contact.id)
    assert lock.until - lock.locked_at == timedelta(hours=24)
    (notice,) = await OutboxMessage.filter(kind="link_locked", recipient="ap@acme.example")
    assert b"locked" in bytes(notice.payload)
    assert await AuditEvent.filter(action="bot.chat.link.locked").count() == 1
    (item,) = await Escalation.filter(kind="link_locked")  # AR's morning digest hears of it
    assert item.address == "ap@acme.example" and "linking locked" in item.summary

    # The lock holds: no new code is mailed, and even a right code fails.
    codes_before = await OutboxMessage.filter(kind="link_code").count()
    await linker.run(LinkCommand("link", "ap@acme.example"), EVE)
    assert await OutboxMessage.filter(kind="link_code").count() == codes_before
    clock.at += timedelta(hours=1)  # the failures age out; the lock does not
    row = await ChatLinkCode.create(  # a code that was valid when the lock struck
        contact=contact, platform="slack", team_id="T0ACME", user_id="U0EVE", chat_id="D0EVE",
        code_hash=code_hash(SECRET, EVE, "123456"), created_at=clock.at,
        expires_at=clock.at + timedelta(minutes=10))
    assert "not valid" in await type_code(linker, "123456", EVE)
    assert not await ChatLink.exists()
    assert (await ChatLinkCode.get(id=row.id)).tries == 1
    assert await OutboxMessage.filter(kind="link_locked").count() == 1  # told once per lock

    clock.at += timedelta(hours=24)  # after the lock, linking works again
    assert "Linked" in await type_code(linker, await ask_code(linker, EVE), EVE)


async def test_an_inactive_contact_cannot_link_and_loses_links(
    linker: Linker, contact: Contact
) -> None:
    code = await ask_code(linker)
    await Contact.filter(id=contact.id).update(active=False)
    assert "not valid" in await type_code(linker, code)
    request = Request("slack", ANNA.address, "invoices", True, SYSTEM.now())
    who = await identify(request)
    assert isinstance(who, Refusal) and who.kind == "unlinked"


async def test_identity_resolves_a_linked_chat_and_respects_the_workspace(
    linker: Linker, contact: Contact
) -> None:
    await ChatLink.create(contact=contact, platform="slack", team_id="T0ACME",
                          user_id="U0ANNA", chat_id="D0ANNA", linked_at=SYSTEM.now())
    await ChatLink.create(contact=contact, platform="slack", team_id="T0OTHER",
                          user_id="U0ANNA", chat_id="D0X", linked_at=SYSTEM.now())
    found = await identify(Request("slack", "slack:T0ACME:U0ANNA", "x", True, SYSTEM.now()))
    assert isinstance(found, Contact) and found.id == contact.id
    other = await identify(Request("slack", "slack:T0OTHER:U0ANNA", "x", True, SYSTEM.now()))
    assert isinstance(other, Refusal) and other.kind == "wrong_workspace"
    telegram = await identify(Request("telegram", "telegram:98765", "x", True, SYSTEM.now()))
    assert isinstance(telegram, Refusal) and telegram.kind == "unlinked"


@pytest.mark.parametrize(("text", "platform", "expected"), [
    ("link AP@ACME.example", "slack", LinkCommand("link", "ap@acme.example")),
    ("/link ap@acme.example.", "telegram", LinkCommand("link", "ap@acme.example")),
    ("123 456", "slack", LinkCommand("code", "123456")),
    ("123456", "telegram", LinkCommand("code", "123456")),
    ("Unlink", "slack", LinkCommand("unlink")),
    ("start abc_DEF-123", "telegram", LinkCommand("start", "abc_DEF-123")),
    ("start abc_DEF-123", "slack", None),
    ("invoices March", "slack", None),
    ("1234567", "slack", None),
])
def test_linking_commands_are_recognised(text: str, platform: str,
                                         expected: LinkCommand | None) -> None:
    assert link_command(text, platform) == expected
