"""The optional connection modes: Slack Socket Mode and Telegram polling, with the real
clients against the fakes (a websocket and getUpdates on loopback)."""

from __future__ import annotations

import httpx

from tests import fake_slack
from tests.chat_harness import chat_env, running_service, slack_dm, slack_text, telegram_update
from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.fakes import SmtpSink
from tests.harness import Running
from vault.models import ChatInbound
from vault.pdf import PdfRenderer


async def not_found(running: Running, path: str) -> bool:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"http://127.0.0.1:{running.service.http_port}{path}")
    return response.status_code == 404


async def test_slack_socket_mode_answers_events_pushed_over_the_websocket(  # type: ignore[no-untyped-def]
    make_config, slack: FakeSlack, sink: SmtpSink, renderer: PdfRenderer, orm: str
) -> None:
    env = chat_env(slack, None, sink, INVOICEBOT_SLACK_MODE="socket",
                   SLACK_APP_TOKEN=fake_slack.APP_TOKEN)
    del env["SLACK_SIGNING_SECRET"]  # not needed: nothing arrives over HTTP
    async with running_service(make_config(**env), sink, renderer) as running:
        assert await not_found(running, "/slack/events")
        (opened,) = slack.named("apps.connections.open")
        assert opened.token == fake_slack.APP_TOKEN
        body = slack_dm("U0ANNA", "invoices March")
        envelope = {"envelope_id": "env-1", "type": "events_api", "payload": body,
                    "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": ""}
        ack = await slack.socket_send(envelope)
        assert ack["envelope_id"] == "env-1"
        (answer,) = await slack.wait_for("chat.postMessage")
        assert answer.params["channel"] == "D0ANNA"
        assert "not linked" in slack_text(answer)
        await slack.socket_send(envelope | {"envelope_id": "env-2", "retry_attempt": 1})
        assert await ChatInbound.all().count() == 1  # the retry was recognised


async def test_telegram_polling_mode_answers_updates_from_get_updates(  # type: ignore[no-untyped-def]
    make_config, telegram: FakeTelegram, sink: SmtpSink, renderer: PdfRenderer, orm: str
) -> None:
    env = chat_env(None, telegram, sink, INVOICEBOT_TELEGRAM_MODE="polling")
    del env["TELEGRAM_WEBHOOK_SECRET"]
    async with running_service(make_config(**env), sink, renderer) as running:
        assert await not_found(running, "/telegram/webhook")
        assert telegram.named("deleteWebhook") and not telegram.named("setWebhook")
        await telegram.push_update(telegram_update(700001, "/help"))
        (answer,) = await telegram.wait_for("sendMessage")
        assert answer.params["chat_id"] == "700001"
        assert "not linked" in answer.params["text"]
