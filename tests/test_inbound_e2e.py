"""One inbound state machine, the same on every channel, through the real servers.

A message whose processing raises (the fault: the pipeline breaks on any request with
POISON in it) is tried MAX_ATTEMPTS times, then set aside for AR and listed in the AR
digest mail, while the messages after it are answered; and a service that finds such a
message stored when it starts (a previous run crashed on it) starts, answers the others,
and sets that one aside. Retries are driven by calling the service's periodic retry, as
its scheduler does every few minutes, never by sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from bot.channels.email import message_key, store_inbound
from bot.inbound import MAX_ATTEMPTS
from bot.messages import Request
from bot.pipeline import Answer, Pipeline
from tests.alerting import text_of
from tests.chat_harness import (
    chat_env,
    dm_channel,
    post_slack,
    post_telegram,
    running_service,
    slack_dm,
    slack_text,
    telegram_update,
)
from tests.fake_slack import TEAM, FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.fakes import SmtpSink
from tests.harness import Running, request_mail, until
from vault.clock import SYSTEM
from vault.config import Config
from vault.models import ChatInbound, InboundMessage
from vault.pdf import PdfRenderer

POISON = "poison-pill"
CONTACT = "ap@acme.example"
SLACK_USER = "U0ANNA"
TELEGRAM_USER = 700001
Row = InboundMessage | ChatInbound


@pytest.fixture
def breaking_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault: the pipeline raises on every request that contains POISON."""
    real = Pipeline.handle

    async def handle(self: Pipeline, request: Request) -> Answer:
        if POISON in request.text:
            raise RuntimeError("the pipeline broke on this message")
        return await real(self, request)

    monkeypatch.setattr(Pipeline, "handle", handle)


@dataclass
class Via:
    """One channel as a user reaches it: our real server, the fake platform it answers on."""

    name: str
    config: Config
    sink: SmtpSink
    slack: FakeSlack | None = None
    telegram: FakeTelegram | None = None

    @property
    def answered(self) -> str:
        """A word every answer to our user's "invoices March" holds on this channel."""
        return "INV-2026-0301" if self.name == "email" else "link"

    async def send(self, running: Running, text: str) -> str:
        """Deliver a message over the channel's real server; returns its stored key."""
        if self.name == "email":
            msg = request_mail(CONTACT, text)
            await running.send(msg)
            return str(msg["Message-ID"]).strip("<>")
        if self.name == "slack":
            body = slack_dm(SLACK_USER, text)
            assert (await post_slack(running, body)).status_code == 200
            return f"slack:{body['event_id']}"
        update = telegram_update(TELEGRAM_USER, text)
        assert (await post_telegram(running, update)).status_code == 200
        return f"telegram:{update['update_id']}"

    async def store(self, text: str) -> str:
        """Store a message as a previous run left it (acknowledged, never processed)."""
        if self.name == "email":
            raw = request_mail(CONTACT, text).as_bytes()
            await store_inbound(raw, "127.0.0.1", "bounce@sender.example",
                                ["invoices@localhost"], SYSTEM.now())
            return message_key(raw)
        user = SLACK_USER if self.name == "slack" else str(TELEGRAM_USER)
        chat = dm_channel(SLACK_USER) if self.name == "slack" else user
        key = f"{self.name}:stored-before-start"
        await ChatInbound.create(key=key, platform=self.name,
                                 team_id=TEAM if self.name == "slack" else "", user_id=user,
                                 chat_id=chat, text=text, received_at=SYSTEM.now())
        return key

    def row(self, key: str, **where: Any) -> Awaitable[Row | None]:
        if self.name == "email":
            return InboundMessage.get_or_none(message_key=key, **where)
        return ChatInbound.get_or_none(key=key, **where)

    async def answer(self, n: int) -> str:
        """The text of the n-th answer our user got (waits for it)."""
        if self.slack is not None:
            return slack_text((await self.slack.wait_for("chat.postMessage", n))[n - 1])
        if self.telegram is not None:
            return str((await self.telegram.wait_for("sendMessage", n))[n - 1]
                       .params["text"])
        mails = await until(lambda: self._mails_to(CONTACT, n))
        return text_of(mails[n - 1].message)

    async def ar_digest(self, running: Running) -> str:
        """Run the digests as the scheduler does; the text of the mail AR receives."""
        await running.service.ticks.digests()
        (mail,) = await until(lambda: self._mails_to("ar@localhost", 1))
        return text_of(mail.message)

    async def _mails_to(self, recipient: str, n: int) -> list[Any] | None:
        mails = [m for m in self.sink.messages if m.rcpt_tos == [recipient]]
        return mails if len(mails) >= n else None


@pytest.fixture(params=["email", "slack", "telegram"])
async def via(  # type: ignore[no-untyped-def]
    request: pytest.FixtureRequest, make_config, sink: SmtpSink, orm: str,
    breaking_pipeline: None,
) -> AsyncIterator[Via]:
    async with AsyncExitStack() as stack:
        slack = (await stack.enter_async_context(FakeSlack())
                 if request.param == "slack" else None)
        telegram = (await stack.enter_async_context(FakeTelegram())
                    if request.param == "telegram" else None)
        # Relayed from loopback: mail from a contact's address is verified (their relay).
        env = chat_env(slack, telegram, sink, INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32")
        yield Via(request.param, make_config(**env), sink, slack, telegram)


async def tried_until_set_aside(via: Via, running: Running, key: str) -> Row:
    """After its first try: the periodic retry, until the message is set aside."""
    await until(lambda: via.row(key, attempts=1))
    for attempts in range(2, MAX_ATTEMPTS + 1):
        # Returns 0 while the last try is still being recorded: called again until queued.
        retry: Callable[[], Awaitable[int]] = running.service.retry_inbound
        await until(retry)
        await until(lambda n=attempts: via.row(key, attempts=n))  # type: ignore[misc]
    row = await until(lambda: via.row(key, state="failed"))
    assert (row.attempts, row.outcome) == (MAX_ATTEMPTS, "unprocessable")
    assert await running.service.retry_inbound() == 0  # never tried again
    assert (await until(lambda: via.row(key))).attempts == MAX_ATTEMPTS
    return row


async def test_a_message_that_breaks_processing_is_tried_three_times_then_listed_for_ar(
    via: Via, renderer: PdfRenderer,
) -> None:
    async with running_service(via.config, via.sink, renderer) as running:
        poison = await via.send(running, f"invoices March {POISON}")
        await until(lambda: via.row(poison, attempts=1))
        good = await via.send(running, "invoices March")
        assert via.answered in await via.answer(1)

        await tried_until_set_aside(via, running, poison)

        digest = await via.ar_digest(running)
        assert "A message the bot could not process" in digest
        assert poison in digest  # AR can find it in the inbound store
        assert POISON not in digest  # what it said stays in the store
        assert (await until(lambda: via.row(good))).state == "processed"


async def test_start_up_with_such_a_message_stored_answers_the_others_and_sets_it_aside(
    via: Via, renderer: PdfRenderer,
) -> None:
    poison = await via.store(f"invoices March {POISON}")
    async with running_service(via.config, via.sink, renderer) as running:  # starts
        await via.send(running, "invoices March")
        assert via.answered in await via.answer(1)
        await tried_until_set_aside(via, running, poison)
        await via.send(running, "invoices March")
        assert via.answered in await via.answer(2)
