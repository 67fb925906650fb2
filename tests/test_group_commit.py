"""Group commit (vault.group_commit) with the chat channel's own write: deliveries that
arrive together share one commit, each caller learns its own row only after it, one
row's error stays that row's, and a failing database fails every waiter at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from tortoise.exceptions import IntegrityError, OperationalError

from bot.chatguard import ChatUser
from bot.chatinbox import ChatMessage, store_deliveries
from vault.group_commit import GroupCommit
from vault.models import ChatInbound

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def delivery(n: int) -> ChatMessage:
    return ChatMessage(f"slack:Ev{n:04d}", ChatUser("slack", "T1", f"U{n}", f"D{n}"),
                       f"invoices March ({n})", AT)


def commits(table: str) -> float:
    return REGISTRY.get_sample_value("invoicebot_group_commit_rows_count",
                                     {"table": table}) or 0.0


async def test_deliveries_arriving_together_share_one_commit_each_with_its_own_row(
    orm: str,
) -> None:
    stored = GroupCommit(ChatInbound, store_deliveries)
    before = commits("chat_inbound")
    messages = [delivery(n) for n in range(20)] + [delivery(3)]  # a replay among them
    ids = await asyncio.gather(*(stored.submit(m) for m in messages))
    assert commits("chat_inbound") - before == 1
    assert ids[-1] is None  # the replay: already received, not stored twice
    rows = {row.id: row.key for row in await ChatInbound.all()}
    assert [rows[i] for i in ids[:-1] if i is not None] == [m.key for m in messages[:-1]]
    assert await stored.submit(delivery(5)) is None  # a later retry, too


async def test_one_rows_error_does_not_fail_the_rows_it_shared_a_commit_with(
    orm: str,
) -> None:
    taken = delivery(7)
    (first,) = await store_deliveries([taken])  # stored meanwhile elsewhere
    assert first is not None

    async def insert(messages: list[ChatMessage]) -> list[int]:
        """No look for known keys: the duplicate fails as one another instance stored."""
        out = []
        for m in messages:
            row = await ChatInbound.create(key=m.key, platform="slack", user_id=m.user.user_id,
                                           chat_id=m.user.chat_id, text=m.text,
                                           received_at=m.received_at)
            out.append(row.id)
        return out

    stored = GroupCommit(ChatInbound, insert)
    messages = [delivery(n) for n in range(5, 10)]
    results = await asyncio.gather(*(stored.submit(m) for m in messages),
                                   return_exceptions=True)
    assert isinstance(results[2], IntegrityError)  # delivery 7: only its own waiter fails
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 2)
    assert sorted(await ChatInbound.all().values_list("key", flat=True)) == sorted(
        m.key for m in messages)


async def test_a_failing_database_fails_every_waiter_at_once_not_one_by_one(
    orm: str,
) -> None:
    tries = 0

    async def locked(messages: list[ChatMessage]) -> list[int]:
        nonlocal tries
        tries += 1
        raise OperationalError("database is locked")

    stored = GroupCommit(ChatInbound, locked)
    results = await asyncio.gather(*(stored.submit(delivery(n)) for n in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(r, OperationalError) for r in results)
    assert tries == 1
    assert await ChatInbound.all().count() == 0


async def test_a_lone_row_is_committed_at_once(orm: str) -> None:
    before = commits("chat_inbound")
    row_id = await GroupCommit(ChatInbound, store_deliveries).submit(delivery(1))
    assert (await ChatInbound.get(id=row_id)).key == "slack:Ev0001"
    assert commits("chat_inbound") - before == 1
