"""Data at rest: no outbox row holds a working download link. A scripted day (replies with
links by email, Slack and Telegram; alerts by email and Telegram) fills the outbox; every
row is scanned for the signed-token pattern and for any token our keys accept, and every
link the recipients got still downloads its PDF."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.chatinbox import redact_set_aside
from notifier import preferences
from notifier.delivery import dispatch_once
from tests.alerting import Alerting, text_of
from tests.chat_harness import (
    chat_env,
    dm_channel,
    post_slack,
    post_telegram,
    running_service,
    slack_buttons,
    slack_dm,
    telegram_update,
)
from tests.fake_slack import TEAM, FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.fakes import SmtpSink
from tests.harness import PUBLIC_URL, Running, request_mail
from tests.recording_sender import RecordingChatSender
from vault.clock import SYSTEM
from vault.links import LinkSigner
from vault.models import ChatInbound, ChatLink, Contact, OutboxMessage
from vault.vocabulary import Cadence, Channel

ACME, GLOBEX = "ap@acme.example", "ap@globex.example"
SLACK_USER, TELEGRAM_USER = "U0ANNA", 700001
# What our signer writes after /d/: payload.timestamp.signature (vault.links).
SIGNED_TOKEN = re.compile(rb"/d/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
ANY_LINK = re.compile(r"/d/([^\s\"'<>)\]]+)")
URL = re.compile(re.escape(PUBLIC_URL) + r"/d/[^\s\"'<>)\]]+")


async def assert_no_token_in_the_outbox(signer: LinkSigner) -> int:
    """Scan every row; how many sealed links were found (the links were there)."""
    rows = await OutboxMessage.all()
    sealed = 0
    for row in rows:
        payload = bytes(row.payload)
        assert not SIGNED_TOKEN.search(payload), (row.kind, row.channel, payload[:300])
        text = payload.decode("utf-8")
        assert not [t for t in ANY_LINK.findall(text) if signer.unsign(t) is not None]
        sealed += text.count("/d/{grant:")
    return sealed


@pytest.fixture
async def running(  # type: ignore[no-untyped-def]
    make_config, slack: FakeSlack, telegram: FakeTelegram, sink: SmtpSink, renderer, orm: str
) -> AsyncIterator[Running]:
    config = make_config(**chat_env(slack, telegram, sink))
    async with running_service(config, sink, renderer) as service:
        yield service


async def assert_downloads(running: Running, urls: list[str]) -> None:
    """Every download link (/d/) gets its PDF; the "Open your account" link (/a/) is a page."""
    urls = [url for url in urls if "/d/" in url]
    assert urls
    for url in urls:
        response = await running.download(url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF"), url


async def test_replies_on_every_channel_leave_no_download_token_in_the_outbox(
    running: Running, slack: FakeSlack, telegram: FakeTelegram,
) -> None:
    contact = await Contact.get(email=ACME)
    now = running.service.clock.now()
    await ChatLink.create(contact=contact, platform="slack", team_id=TEAM, user_id=SLACK_USER,
                          chat_id=dm_channel(SLACK_USER), linked_at=now)
    await ChatLink.create(contact=contact, platform="telegram", user_id=str(TELEGRAM_USER),
                          chat_id=str(TELEGRAM_USER), linked_at=now)

    mail = request_mail(ACME, "invoices March")
    await running.send(mail)
    (reply,) = await running.sink.wait_for(1)
    assert (await post_slack(running, slack_dm(SLACK_USER, "invoices March"))).status_code == 200
    update = telegram_update(TELEGRAM_USER, "unpaid invoices")
    assert (await post_telegram(running, update)).status_code == 200
    (posted,) = await slack.wait_for("chat.postMessage")
    (sent,) = await telegram.wait_for("sendMessage")

    await assert_downloads(running, URL.findall(text_of(reply.message)))
    await assert_downloads(running, [b["url"] for b in slack_buttons(posted)])
    markup = sent.params.get("reply_markup") or {"inline_keyboard": []}
    await assert_downloads(running, [b["url"] for row in markup["inline_keyboard"]
                                     for b in row])
    assert await assert_no_token_in_the_outbox(running.service.signer) >= 3


async def test_alerts_leave_no_download_token_in_the_outbox(alerting: Alerting) -> None:
    contact = await Contact.get(email=ACME)
    await ChatLink.create(contact=contact, platform="telegram", user_id="42", chat_id="4242",
                          linked_at=alerting.clock.now())
    await preferences.apply(contact, preferences.Change(channels=(Channel.TELEGRAM,),
                                                         cadence=Cadence.INSTANT), None,
                            via="test", now=SYSTEM.now())
    await alerting.invoices(("GLOBEX", "G-1001", 0, 30, "1250.00"),
                            ("ACME", "A-2001", 0, 30, "500.00"))
    await alerting.tick()
    telegram = RecordingChatSender()
    assert await dispatch_once(telegram, now=alerting.clock.now(),
                               signer=alerting.service.signer) == 1

    (mail,) = alerting.mails_to(GLOBEX)
    urls = URL.findall(text_of(mail)) + [b["url"] for b in telegram.delivered[0].buttons]
    assert len(urls) == 2
    for url in urls:
        response = await alerting.download(url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert await assert_no_token_in_the_outbox(alerting.service.signer) >= 2


async def test_a_chat_delivery_set_aside_keeps_no_linking_code_or_start_token(
    orm: str,
) -> None:
    now = SYSTEM.now()
    for n, (platform, text) in enumerate([("slack", "1234 5678"),
                                          ("telegram", "start Abc_def-123456"),
                                          ("telegram", "invoices March")]):
        await ChatInbound.create(key=f"k{n}", platform=platform, user_id="u", chat_id="c",
                                 text=text, received_at=now, state="failed", attempts=3)
    await ChatInbound.create(key="waiting", platform="slack", user_id="u", chat_id="c",
                             text="1234 5678", received_at=now)  # still to be tried

    assert await redact_set_aside() == 2
    kept = {row.key: row.text for row in await ChatInbound.all()}
    assert kept == {"k0": "<code>", "k1": "start <token>", "k2": "invoices March",
                    "waiting": "1234 5678"}
