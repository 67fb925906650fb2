"""Linking chat accounts: codes, tries, locks, tokens and what the answers reveal, checked
through the Linker against a real database; the emails are read from the outbox rows."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.chatguard import ACCOUNT_LIMIT, BUDGET, GLOBAL_LIMIT, LOCK_AFTER, ChatUser, Guard
from bot.chatlink import MAX_TRIES, LinkCommand, Linker, code_hash, link_command
from bot.identity import Refusal, identify
from bot.messages import Request
from notifier.email_send import wire
from tests.test_cli_notify import make_cli
from vault.clock import SYSTEM, FixedClock
from vault.config import Config
from vault.models import (
    Account,
    AuditEvent,
    ChatLink,
    ChatLinkBudget,
    ChatLinkCode,
    ChatLinkFailure,
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
    match = re.search(r"Your code is (\d{8})\.", body.get_content())
    assert match
    return match[1]


async def type_code(linker: Linker, code: str, user: ChatUser = ANNA) -> str:
    reply = await linker.run(LinkCommand("code", code), user)
    assert reply is not None
    return reply.intro


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 100_000_000:08d}"


async def test_a_code_is_mailed_to_the_address_on_file_and_stored_only_hashed(
    linker: Linker, contact: Contact
) -> None:
    code = await ask_code(linker)
    row = await ChatLinkCode.get(contact_id=contact.id)
    assert len(code) == 8 and code not in row.code_hash and len(row.code_hash) == 64
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


def chat_user(n: int) -> ChatUser:
    return ChatUser("slack", "T0ACME", f"U0GUESS{n}", f"D0GUESS{n}")


async def guess(linker: Linker, failures: int, first_user: int, per_user: int = 4) -> int:
    """Type `failures` wrong codes for ap@acme.example, `per_user` from each of a series of
    chat accounts (under their own limit); the next unused user number."""
    user = first_user
    while failures > 0:
        code = await ask_code(linker, chat_user(user))
        for _ in range(min(per_user, failures)):
            assert "not valid" in await type_code(linker, wrong(code), chat_user(user))
            failures -= 1
        user += 1
    return user


async def test_a_burst_of_wrong_codes_locks_linking_for_a_day_and_tells_the_contact(
    linker: Linker, contact: Contact, clock: FixedClock
) -> None:
    await guess(linker, LOCK_AFTER, first_user=0)
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
        code_hash=code_hash(SECRET, EVE, "12345678"), created_at=clock.at,
        expires_at=clock.at + timedelta(minutes=10))
    assert "not valid" in await type_code(linker, "12345678", EVE)
    assert not await ChatLink.exists()
    assert (await ChatLinkCode.get(id=row.id)).tries == 1
    assert await OutboxMessage.filter(kind="link_locked").count() == 1  # told once per lock

    clock.at += timedelta(hours=24)  # after the burst lock, linking works again
    assert "Linked" in await type_code(linker, await ask_code(linker, EVE), EVE)


async def test_a_hundred_failures_in_total_lock_until_a_person_unlocks_with_the_cli(
    linker: Linker, contact: Contact, clock: FixedClock, tmp_path: Path, database_url: str
) -> None:
    user = 0
    for _ in range(BUDGET // LOCK_AFTER):  # bursts a day apart: the budget never resets
        user = await guess(linker, LOCK_AFTER, first_user=user)
        clock.at += timedelta(hours=25)
    budget = await ChatLinkBudget.get(contact_id=contact.id)
    assert budget.failures == BUDGET and budget.exhausted_at is not None
    (notice,) = await Escalation.filter(kind="link_locked", source_key__startswith=(
        "chat-link-exhausted:"))
    assert "invoicebot chat unlock --contact ap@acme.example" in notice.summary
    last = await OutboxMessage.filter(kind="link_locked").order_by("-id").first()
    assert last is not None and b"until our accounts receivable team unlocks" in wire(
        bytes(last.payload)).replace(b"=\r\n", b"").replace(b"\r\n", b" ")

    clock.at += timedelta(days=30)  # no time ends it, and even the right code fails
    codes_before = await OutboxMessage.filter(kind="link_code").count()
    await linker.run(LinkCommand("link", "ap@acme.example"), ANNA)
    assert await OutboxMessage.filter(kind="link_code").count() == codes_before
    row = await ChatLinkCode.create(
        contact=contact, platform="slack", team_id="T0ACME", user_id="U0ANNA",
        chat_id="D0ANNA", code_hash=code_hash(SECRET, ANNA, "12345678"), created_at=clock.at,
        expires_at=clock.at + timedelta(minutes=10))
    assert "not valid" in await type_code(linker, "12345678", ANNA)
    await ChatLinkCode.filter(id=row.id).update(closed=True)

    cli = make_cli(tmp_path, database_url)
    code, out, err = await cli.run("chat", "unlock", "--contact", "AP@acme.example")
    assert (code, err) == (0, ""), err
    assert out == "ap@acme.example: chat linking unlocked; failure budget reset\n"
    unlocked = await AuditEvent.get(action="bot.chat.link.unlocked")
    # The try while locked counted too: every try does.
    assert unlocked.data["failures"] == BUDGET + 1 and unlocked.contact_id == contact.id
    assert not await ChatLinkBudget.filter(contact_id=contact.id).exists()
    assert "Linked" in await type_code(linker, await ask_code(linker, ANNA), ANNA)

    code, _, err = await cli.run("chat", "unlock", "--contact", "nobody@acme.example")
    assert code == 2 and "--contact: 'nobody@acme.example' is not a contact on file" in err


async def test_one_chat_account_is_paused_after_too_many_wrong_codes_across_contacts(
    linker: Linker, contact: Contact, clock: FixedClock
) -> None:
    account = await Account.get(account_id="ACME")
    addresses = [f"ap{n}@acme.example" for n in range(ACCOUNT_LIMIT // 4)]
    for address in addresses:  # four wrong codes each: no contact reaches its own lock
        await Contact.create(account=account, email=address)
        await linker.run(LinkCommand("link", address), EVE)
        for _ in range(4):
            assert "not valid" in await type_code(linker, "00000000", EVE)
    assert not await ChatLinkLock.exists()

    paused = await linker.run(LinkCommand("link", "ap@acme.example"), EVE)
    assert paused is not None and paused.subject == "Linking paused"
    assert f"typed {ACCOUNT_LIMIT} wrong codes within a day" in paused.intro
    assert not await OutboxMessage.filter(kind="link_code", recipient="ap@acme.example").exists()
    assert (await linker.run(LinkCommand("code", "12345678"), EVE)) == paused
    (item,) = await Escalation.filter(kind="link_limited")
    assert item.address == "slack:T0ACME:U0EVE" and "paused for it" in item.summary
    assert "Linked" in await type_code(linker, await ask_code(linker, ANNA), ANNA)  # others can

    clock.at += timedelta(hours=24, minutes=1)
    reply = await linker.run(LinkCommand("link", "ap0@acme.example"), EVE)
    assert reply is not None and reply.subject == "Code sent"


async def test_linking_pauses_for_everyone_when_wrong_codes_pile_up(
    linker: Linker, contact: Contact, clock: FixedClock
) -> None:
    # The failures of many accounts on many contacts in the last hour (stored as the
    # guard stores them); the last one is typed.
    others = [await Contact.create(account_id=contact.account_id, email=f"x{n}@acme.example")
              for n in range(20)]
    await ChatLinkFailure.bulk_create([
        ChatLinkFailure(contact_id=others[n % 20].id, at=clock.at - timedelta(minutes=30),
                        chat_address=f"slack:T0ACME:U0BOT{n % 50}")
        for n in range(GLOBAL_LIMIT - 1)])
    code = await ask_code(linker, EVE)
    assert "not valid" in await type_code(linker, wrong(code), EVE)

    paused = await linker.run(LinkCommand("link", "ap@acme.example"), ANNA)
    assert paused is not None and paused.subject == "Linking paused"
    assert "paused for everyone" in paused.intro
    (item,) = await Escalation.filter(kind="link_limited")
    assert "paused for everyone" in item.summary and item.address == ""
    clock.at += timedelta(minutes=31)  # the hour has passed for all but one
    assert "Linked" in await type_code(linker, await ask_code(linker, ANNA), ANNA)


async def test_a_linked_chat_is_told_to_the_contact_by_email(
    linker: Linker, contact: Contact
) -> None:
    assert "Linked" in await type_code(linker, await ask_code(linker))
    (told,) = await OutboxMessage.filter(kind="link_linked", recipient="ap@acme.example")
    msg = email.message_from_bytes(wire(bytes(told.payload)), policy=email.policy.default)
    assert msg["Subject"] == "A Slack account was linked to your address"
    body = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert "user id U0ANNA" in body.get_content()


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
    ("1234 5678", "slack", LinkCommand("code", "12345678")),
    ("1234-5678", "slack", LinkCommand("code", "12345678")),
    ("12345678", "telegram", LinkCommand("code", "12345678")),
    ("123456", "telegram", None),  # codes have 8 digits now
    ("Unlink", "slack", LinkCommand("unlink")),
    ("start abc_DEF-123", "telegram", LinkCommand("start", "abc_DEF-123")),
    ("start abc_DEF-123", "slack", None),
    ("invoices March", "slack", None),
    ("1234567", "slack", None),
    ("123456789", "slack", None),
])
def test_linking_commands_are_recognised(text: str, platform: str,
                                         expected: LinkCommand | None) -> None:
    assert link_command(text, platform) == expected


@pytest.mark.parametrize(("text", "platform"), [
    ("start the-IS_my-en-y-u", "telegram"),  # a random token's letters can read as words
    ("link les.factures@acme.example", "slack"),  # so can an address
    ("12345678", "telegram"),
])
def test_a_linking_command_has_no_language_from_its_argument(text: str, platform: str) -> None:
    """The answer to it is then in the contact's language (their locale, the account's)."""
    command = link_command(text, platform)
    assert command is not None and command.argument
    assert command.written_in(text) is None


def test_unlink_is_english_by_its_own_word() -> None:
    command = link_command("unlink", "slack")
    assert command is not None and command.written_in("unlink") == "en"
