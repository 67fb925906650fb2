"""Telegram end to end: the real python-telegram-bot Application in our running service,
updates posted to /telegram/webhook with the secret header, answers read from a fake Bot
API on loopback, link codes from the SMTP sink, PDFs fetched over HTTP."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.chat_harness import (
    chat_env,
    emailed_code,
    post_telegram,
    processed,
    running_service,
    telegram_update,
)
from tests.fake_telegram import BOT_TOKEN, BOT_USERNAME, WEBHOOK_SECRET, FakeTelegram
from tests.fakes import SmtpSink
from tests.harness import PUBLIC_URL, Running
from vault.models import (
    AuditEvent,
    ChatInbound,
    ChatLink,
    ChatLinkToken,
    Contact,
    OutboxMessage,
)
from vault.pdf import PdfRenderer

ANNA = 700001


@pytest.fixture
async def running(  # type: ignore[no-untyped-def]
    make_config, telegram: FakeTelegram, sink: SmtpSink, renderer: PdfRenderer, orm: str
) -> AsyncIterator[Running]:
    config = make_config(**chat_env(None, telegram, sink))
    async with running_service(config, sink, renderer) as service:
        yield service


async def say(running: Running, telegram: FakeTelegram, user: int, text: str) -> dict[str, Any]:
    """Send a private message as `user`; the bot's sendMessage call that answers it."""
    before = len(telegram.named("sendMessage"))
    assert (await post_telegram(running, telegram_update(user, text))).status_code == 200
    call = (await telegram.wait_for("sendMessage", before + 1))[before]
    assert call.params["chat_id"] == str(user)
    return call.params


def url_buttons(params: dict[str, Any]) -> list[dict[str, str]]:
    markup = params.get("reply_markup") or {"inline_keyboard": []}
    return [button for row in markup["inline_keyboard"] for button in row]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_start_sets_the_webhook_with_our_secret_and_the_command_menu(
    running: Running, telegram: FakeTelegram,
) -> None:
    assert telegram.named("getMe")
    (hook,) = telegram.named("setWebhook")
    assert hook.params["url"] == f"{PUBLIC_URL}/telegram/webhook"
    assert hook.params["secret_token"] == WEBHOOK_SECRET
    (commands,) = telegram.named("setMyCommands")
    assert {c["command"] for c in commands.params["commands"]} >= {"invoices", "help", "link"}


async def test_unlinked_user_is_refused_then_links_by_emailed_code_and_gets_march_pdfs(
    running: Running, telegram: FakeTelegram,
) -> None:
    refused = await say(running, telegram, ANNA, "/start")
    assert "not linked" in refused["text"] and "INV-" not in refused["text"]
    assert not url_buttons(refused)

    answer = await say(running, telegram, ANNA, "/link ap@acme.example")
    assert "If ap@acme.example is on file" in answer["text"]
    code = await emailed_code(running.sink, 1)
    # A code says no language and Anna's data has no locale: ACME's (de_DE) answers.
    assert "Verknüpft:" in (await say(running, telegram, ANNA, code))["text"]
    link = await ChatLink.get(platform="telegram", user_id=str(ANNA))
    assert link.chat_id == str(ANNA) and link.team_id == ""

    listing = await say(running, telegram, ANNA, "/invoices March")
    assert "INV-2026-0301" in listing["text"] and "INV-2026-0302" in listing["text"]
    assert "INV-2026-0305" not in listing["text"]
    assert "http" not in listing["text"]  # the links are buttons
    buttons = url_buttons(listing)
    # Every reply ends with the link to the contact's account page.
    assert buttons[-1]["text"] == "Open your account"
    buttons = buttons[:-1]
    assert sorted(b["text"] for b in buttons) == ["Download INV-2026-0301",
                                                  "Download INV-2026-0302"]
    for button in buttons:
        response = await running.download(button["url"])
        assert response.status_code == 200
        assert button["text"].removeprefix("Download ") in pdf_text(response.content)


async def test_free_text_and_unlink(running: Running, telegram: FakeTelegram) -> None:
    await say(running, telegram, ANNA, "link ap@acme.example")
    await say(running, telegram, ANNA, await emailed_code(running.sink, 1))
    unpaid = await say(running, telegram, ANNA, "what is unpaid?")
    assert "Unpaid invoices" in unpaid["text"]
    # "unlink" is an English word: the request's language answers (vault.answer_language).
    assert "Unlinked" in (await say(running, telegram, ANNA, "unlink"))["text"]
    assert not await ChatLink.exists()
    again = await say(running, telegram, ANNA, "invoices March")
    assert "not linked" in again["text"] and "INV-" not in again["text"]
    actions = [e.action for e in await AuditEvent.filter(action__startswith="bot.chat.link")]
    assert actions.count("bot.chat.link.unlinked") == 1


@pytest.mark.parametrize("secret", [None, "wrong-secret-0123456789", ""],
                         ids=["missing", "wrong", "empty"])
async def test_a_wrong_or_missing_secret_gets_403_and_changes_nothing(
    running: Running, telegram: FakeTelegram, secret: str | None
) -> None:
    response = await post_telegram(running, telegram_update(ANNA, "link ap@acme.example"),
                                   secret=secret)
    assert response.status_code == 403
    assert await ChatInbound.all().count() == 0
    assert not telegram.named("sendMessage")
    assert await AuditEvent.filter(action__startswith="bot.chat").count() == 0


async def test_a_replayed_update_is_answered_once(running: Running, telegram: FakeTelegram) -> None:
    update = telegram_update(ANNA, "help")
    for _ in range(3):
        assert (await post_telegram(running, update)).status_code == 200
    later = telegram_update(ANNA, "help")
    assert (await post_telegram(running, later)).status_code == 200
    await processed(f"telegram:{later['update_id']}")
    await telegram.wait_for("sendMessage", 2)
    assert await ChatInbound.all().count() == 2
    assert await OutboxMessage.filter(channel="telegram").count() == 2


async def test_a_nul_in_a_message_is_stored_and_answered(
    running: Running, telegram: FakeTelegram
) -> None:
    # PostgreSQL text cannot hold NUL: storing it raw would answer 500 and Telegram would
    # redeliver the update for ever.
    answer = await say(running, telegram, ANNA, "he\x00lp")
    assert "link" in answer["text"]
    assert (await ChatInbound.get()).text == "help"


async def test_a_message_whose_answer_failed_is_answered_on_the_next_retry(
    running: Running, telegram: FakeTelegram
) -> None:
    # As a failed try leaves it: stored (acknowledged to Telegram), still unanswered.
    stored = await ChatInbound.create(
        key="telegram:424242", platform="telegram", user_id=str(ANNA), chat_id=str(ANNA),
        text="help", received_at=running.service.clock.now() - timedelta(minutes=5))
    assert await running.service.retry_inbound() == 1
    (call,) = await telegram.wait_for("sendMessage", 1)
    assert call.params["chat_id"] == str(ANNA) and "link" in call.params["text"]
    assert (await ChatInbound.get(id=stored.id)).state == "processed"


async def test_group_chats_get_nothing(running: Running, telegram: FakeTelegram) -> None:
    group = telegram_update(ANNA, "invoices March", chat_type="group")
    assert (await post_telegram(running, group)).status_code == 200
    assert (await post_telegram(running, "not json")).status_code == 400
    await say(running, telegram, ANNA, "help")  # processed after the group message, if any
    assert await ChatInbound.all().count() == 1


def plain_body(received: Any) -> str:
    body = received.message.get_body(preferencelist=("plain",))
    return str(body.get_content())


async def test_only_connect_telegram_gets_a_deep_link_that_links_in_one_tap(
    running: Running, telegram: FakeTelegram,
) -> None:
    from tests.harness import request_mail

    # An ordinary answer carries no linking token: a forwarded reply links nothing.
    await running.send(request_mail("ap@acme.example", "invoices March"))
    (ordinary,) = await running.sink.wait_for(1)
    assert "INV-2026-0301" in plain_body(ordinary)
    assert "t.me/" not in ordinary.message.as_string()
    assert "/slack/link" not in ordinary.message.as_string()
    assert not await ChatLinkToken.exists()

    await running.send(request_mail("ap@acme.example", "connect telegram"))
    (_, connect) = await running.sink.wait_for(2)
    text = plain_body(connect)
    assert ("To ask us in Telegram, link your Telegram account to ap@acme.example: use the "
            "one-click link below") in text
    prefix = f"https://t.me/{BOT_USERNAME}?start="
    assert prefix in text
    token = text.split(prefix, 1)[1].split()[0]
    assert len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()
    offered = await ChatLinkToken.get()  # expires with the download links (links.ttl)
    assert offered.expires_at - offered.created_at == running.service.config.link_ttl

    answer = await say(running, telegram, ANNA, f"/start {token}")
    assert "Verknüpft:" in answer["text"]
    contact = await Contact.get(email="ap@acme.example")
    assert (await ChatLink.get(user_id=str(ANNA))).contact_id == contact.id
    other = 700002  # the same token a second time: single use
    assert "not valid" in (await say(running, telegram, other, f"/start {token}"))["text"]
    assert not await ChatLink.filter(user_id=str(other)).exists()
    # The token is not kept in the stored chat text once processed.
    texts = [row.text for row in await ChatInbound.all()]
    assert "start <token>" in texts and not any(token in t for t in texts)

    await running.send(request_mail("ap@acme.example", "connect telegram"))
    (*_, second) = await running.sink.wait_for(4)  # the "linked" email came in between
    assert "t.me/" not in second.message.as_string()  # linked now: no more offers
    assert "Your Telegram account is already linked to ap@acme.example" in plain_body(second)


async def test_the_linked_email_unlinks_in_one_click_and_no_code_is_kept(
    running: Running, telegram: FakeTelegram,
) -> None:
    await say(running, telegram, ANNA, "/link ap@acme.example")
    code = await emailed_code(running.sink, 1)
    assert "Verknüpft:" in (await say(running, telegram, ANNA, code[:4] + " " + code[4:]))["text"]
    assert not any(code[:4] in row.text for row in await ChatInbound.all())
    assert "<code>" in [row.text for row in await ChatInbound.all()]

    told = (await running.sink.wait_for(2))[1]
    assert told.rcpt_tos == ["ap@acme.example"]
    assert told.message["Subject"] == "Ein Telegram-Konto wurde mit Ihrer Adresse verknüpft"
    text = plain_body(told)
    assert f"Benutzer-ID {ANNA}" in text
    url = re.search(r"Dieses Telegram-Konto trennen: (\S+)", text)
    assert url, text
    local = url[1].replace(PUBLIC_URL, f"http://127.0.0.1:{running.service.http_port}")
    async with httpx.AsyncClient() as browser:
        asked = await browser.get(local)  # a mail scanner's GET only asks
        assert asked.status_code == 200 and "Das Telegram-Konto (Benutzer-ID" in asked.text
        assert await ChatLink.filter(user_id=str(ANNA)).exists()
        done = await browser.post(local)
        assert done.status_code == 200 and "erhält keine Rechnungen für" in done.text
        assert not await ChatLink.filter(user_id=str(ANNA)).exists()
        audit = await AuditEvent.get(action="bot.chat.link.unlinked")
        assert audit.data["via"] == "email_link" and audit.data["user_id"] == str(ANNA)
        again = await browser.post(local)  # spent
        assert again.status_code == 410 and "not valid" in again.text
        tampered = await browser.get(local[:-2] + ("xx" if not local.endswith("xx") else "yy"))
        assert tampered.status_code == 410
    assert "not linked" in (await say(running, telegram, ANNA, "invoices March"))["text"]


async def test_tokens_and_secrets_never_reach_the_log(
    running: Running, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await say(running, telegram, ANNA, "link ap@acme.example")
    await say(running, telegram, ANNA, await emailed_code(running.sink, 1))
    await say(running, telegram, ANNA, "invoices March")
    telegram.fail("sendMessage", 502)
    await post_telegram(running, telegram_update(ANNA, "help"))
    await telegram.wait_for("sendMessage", 4)  # the failed attempt: the outbox retries later
    assert caplog.records
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], WEBHOOK_SECRET):
        assert secret not in caplog.text


async def test_thanks_in_chat_gets_one_friendly_line_never_the_help(
    running: Running, telegram: FakeTelegram,
) -> None:
    await say(running, telegram, ANNA, "link ap@acme.example")
    await say(running, telegram, ANNA, await emailed_code(running.sink, 1))
    # Anna has no locale of her own: each thanks is answered in its language (README).
    for text, welcome in (("thanks!", "You're welcome!"), ("ok danke", "Gern geschehen!"),
                          ("perfect, thank you", "You're welcome!"),
                          ("merci beaucoup", "Avec plaisir !")):
        answer = await say(running, telegram, ANNA, text)
        assert answer["text"].startswith(welcome), answer["text"]
        assert "what you can ask for" not in answer["text"]
    both = await say(running, telegram, ANNA, "thanks! and the invoices from March?")
    assert "INV-2026-0301" in both["text"] and "welcome" not in both["text"]
