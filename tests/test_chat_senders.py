"""The chat senders with the real platform clients against the fake APIs: what arrives,
which failures are permanent (dead, AR told) and which are retried, and Telegram pacing."""

from __future__ import annotations

import asyncio
import json

import pytest
from telegram.ext import ExtBot

from bot.channels.slack_send import SlackSender, web_client
from bot.channels.telegram_send import ChatPacing, TelegramSender
from notifier import outbox
from notifier.delivery import DeliveryError, dispatch_once
from notifier.message import Outgoing
from tests import fake_slack, fake_telegram
from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram
from vault.clock import SYSTEM
from vault.models import Account, ChatLink, Contact, Escalation, OutboxMessage
from vault.vocabulary import Channel, OutboxKind

# A row queued before Outgoing existed: {"text", "buttons"} JSON, still delivered as it was.
ALERT = json.dumps({"text": "Invoice INV-1 is overdue.",
                    "buttons": [{"label": "Download INV-1", "url": "http://x.test/d/t"}]}).encode()


def slack_sender(slack: FakeSlack) -> SlackSender:
    return SlackSender(web_client(fake_slack.BOT_TOKEN, slack.api_url))


def telegram_bot(telegram: FakeTelegram, pacing: ChatPacing | None = None) -> ExtBot[None]:
    return ExtBot(fake_telegram.BOT_TOKEN, base_url=f"{telegram.api_url}/bot",
                  rate_limiter=pacing or ChatPacing())


async def test_slack_gets_block_kit_with_url_buttons_and_a_text_fallback(
    slack: FakeSlack,
) -> None:
    await slack_sender(slack).send("D0ANNA", ALERT)
    (call,) = slack.named("chat.postMessage")
    assert call.token == fake_slack.BOT_TOKEN
    assert call.params["channel"] == "D0ANNA"
    assert call.params["text"] == "Invoice INV-1 is overdue."
    section, actions = call.params["blocks"]
    assert section["text"]["text"] == "Invoice INV-1 is overdue."
    (button,) = actions["elements"]
    assert button["url"] == "http://x.test/d/t" and button["text"]["text"] == "Download INV-1"


@pytest.mark.parametrize(("status", "error", "permanent"), [
    (200, "channel_not_found", True),
    (200, "is_archived", True),
    (200, "account_inactive", True),
    (500, "internal_error", False),
    (200, "fatal_error", False),
])
async def test_slack_failures_are_permanent_only_when_no_retry_can_help(
    slack: FakeSlack, status: int, error: str, permanent: bool
) -> None:
    slack.fail("chat.postMessage", status=status, error=error)
    with pytest.raises(DeliveryError) as failed:
        await slack_sender(slack).send("D0ANNA", ALERT)
    assert failed.value.permanent is permanent
    assert error in str(failed.value)


async def test_slack_rate_limit_is_waited_out_once_then_left_to_the_outbox(
    slack: FakeSlack,
) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1)
    await slack_sender(slack).send("D0ANNA", ALERT)  # Retry-After honoured, then sent
    assert len(slack.named("chat.postMessage")) == 2
    slack.fail("chat.postMessage", status=429, retry_after=1)
    slack.fail("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(DeliveryError) as failed:
        await slack_sender(slack).send("D0ANNA", ALERT)
    assert not failed.value.permanent


async def test_slack_unreachable_is_temporary() -> None:
    sender = SlackSender(web_client(fake_slack.BOT_TOKEN, "http://127.0.0.1:9/api/"))
    with pytest.raises(DeliveryError) as failed:
        await sender.send("D0ANNA", ALERT)
    assert not failed.value.permanent


async def test_telegram_gets_text_with_url_buttons(telegram: FakeTelegram) -> None:
    async with telegram_bot(telegram) as bot:
        await TelegramSender(bot).send("700001", ALERT)
    (call,) = telegram.named("sendMessage")
    assert call.params["chat_id"] == "700001"
    assert call.params["text"] == "Invoice INV-1 is overdue."
    assert call.params["reply_markup"] == {"inline_keyboard": [[
        {"text": "Download INV-1", "url": "http://x.test/d/t"}]]}


@pytest.mark.parametrize(("chat", "status", "permanent"), [
    ("blocked", 0, True),
    ("-999001", 0, True),  # chat not found
    ("700001", 500, False),
    ("700001", 502, False),
])
async def test_telegram_failures(telegram: FakeTelegram, chat: str, status: int,
                                 permanent: bool) -> None:
    if chat == "blocked":
        chat = "700009"
        telegram.block(chat)
    if status:
        telegram.fail("sendMessage", status)
    async with telegram_bot(telegram) as bot:
        with pytest.raises(DeliveryError) as failed:
            await TelegramSender(bot).send(chat, ALERT)
    assert failed.value.permanent is permanent


async def test_telegram_retry_after_is_honoured(telegram: FakeTelegram) -> None:
    telegram.fail("sendMessage", 429, retry_after=1)
    loop = asyncio.get_running_loop()
    async with telegram_bot(telegram) as bot:
        started = loop.time()
        await TelegramSender(bot).send("700001", ALERT)
        waited = loop.time() - started
    assert len(telegram.named("sendMessage")) == 2
    assert waited >= 1.0


async def test_telegram_pacing_one_message_per_chat_period(telegram: FakeTelegram) -> None:
    # A period well above what four sends take on a loaded machine (at 0.3 s, a busy CI
    # machine took 0.36 s for the four chats' sends), so the comparison says only pacing.
    period = 1.0
    pacing = ChatPacing(per_chat_period=period)
    loop = asyncio.get_running_loop()
    async with telegram_bot(telegram, pacing) as bot:
        sender = TelegramSender(bot)
        started = loop.time()
        await asyncio.gather(*(sender.send(chat, ALERT) for chat in ("1", "2", "3", "4")))
        other_chats = loop.time() - started
        started = loop.time()
        await asyncio.gather(*(sender.send("5", ALERT) for _ in range(4)))
        one_chat = loop.time() - started
    assert other_chats < period  # different chats are not held back by each other
    assert one_chat >= 3 * period  # four to one chat: three waits of a period


async def test_a_blocked_bot_kills_the_outbox_row_and_ar_hears_of_it(
    telegram: FakeTelegram, orm: str
) -> None:
    telegram.block("700009")
    account = await Account.create(account_id="ACME", name="ACME")
    contact = await Contact.create(account=account, email="ap@acme.example")
    await ChatLink.create(contact=contact, platform="telegram", user_id="700009",
                          chat_id="700009", linked_at=SYSTEM.now())
    now = SYSTEM.now()
    for key, chat in (("alert:1", "700009"), ("alert:2", "700001")):
        await outbox.enqueue(Outgoing(
            kind=OutboxKind.ALERT, channel=Channel.TELEGRAM, recipient=chat, key=key,
            title="Invoice INV-1 is overdue.", contact_id=contact.id), now=now)
    async with telegram_bot(telegram) as bot:
        assert await dispatch_once(TelegramSender(bot), now) == 1
    assert (await OutboxMessage.get(key="alert:1")).state == "dead"
    assert (await OutboxMessage.get(key="alert:2")).state == "sent"
    escalation = await Escalation.get(kind="dead_delivery")
    assert escalation.address == "700009" and "blocked" in escalation.summary
    assert (escalation.account_id, escalation.contact_id) == (account.id, contact.id)
