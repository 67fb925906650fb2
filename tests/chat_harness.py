"""The running service with Slack and Telegram on: signed Slack requests and Telegram
updates posted over loopback HTTP, answers read from the fake platform APIs, codes read
from the mail that reached the SMTP sink."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.service import Service
from tests import fake_slack, fake_telegram
from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.fakes import SmtpSink
from tests.harness import PUBLIC_URL, Running, fixed_clock, load_e2e_data, until
from vault.config import Config
from vault.i18n import LANGUAGES, catalogue
from vault.models import ChatInbound
from vault.pdf import PdfRenderer

# "Your code is 12345678." in whichever language the contact reads (vault.answer_language).
CODE = re.compile("(?:{}) (\\d{{8}})".format("|".join(
    re.escape(catalogue(language, "messages").gettext(
        "Your code is {code}. Type it in the {chat} chat where you asked for it, within "
        "{minutes} minutes.").split(" {code}")[0]) for language in LANGUAGES)))
_ids = itertools.count(1000)


def chat_env(slack: FakeSlack | None, telegram: FakeTelegram | None, sink: SmtpSink,
             **extra: str) -> dict[str, str]:
    env = {
        "INVOICEBOT_EMAIL_OUTBOUND": f"smtp://127.0.0.1:{sink.port}",
        "INVOICEBOT_HTTP_PUBLIC_URL": PUBLIC_URL,
        "INVOICEBOT_NOTIFIER_TICK": "1s",
        # Chat tests count the sink's mail (link codes); alerts are tested elsewhere and
        # would race them (the start-up sweep turns invoices overdue, which alerts).
        "INVOICEBOT_NOTIFIER_ENABLED": "false",
    }
    if slack is not None:
        env |= {
            "INVOICEBOT_SLACK_ENABLED": "true", "INVOICEBOT_SLACK_API_URL": slack.api_url,
            "INVOICEBOT_SLACK_AUTHORIZE_URL": slack.authorize_url,
            "SLACK_BOT_TOKEN": fake_slack.BOT_TOKEN,
            "SLACK_SIGNING_SECRET": fake_slack.SIGNING_SECRET,
            "SLACK_OIDC_CLIENT_ID": fake_slack.OIDC_CLIENT_ID,
            "SLACK_OIDC_CLIENT_SECRET": fake_slack.OIDC_CLIENT_SECRET,
        }
    if telegram is not None:
        env |= {
            "INVOICEBOT_TELEGRAM_ENABLED": "true",
            "INVOICEBOT_TELEGRAM_API_URL": telegram.api_url,
            "TELEGRAM_BOT_TOKEN": fake_telegram.BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": fake_telegram.WEBHOOK_SECRET,
        }
    return env | extra


@asynccontextmanager
async def running_service(config: Config, sink: SmtpSink,
                          renderer: PdfRenderer) -> AsyncIterator[Running]:
    service = Service(config, clock=fixed_clock())
    await service.start()
    try:
        await load_e2e_data(config, renderer)
        yield Running(service=service, sink=sink, config=config)
    finally:
        await service.stop()


# ---- Slack ---------------------------------------------------------------------------------

def slack_dm(user: str, text: str, *, team: str = fake_slack.TEAM,
             event_id: str | None = None) -> dict[str, Any]:
    """An Events API delivery of a direct message to the bot."""
    return {
        "token": "unused", "team_id": team, "api_app_id": "A0APP", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids)}", "event_time": int(time.time()),
        "event": {"type": "message", "channel_type": "im", "channel": dm_channel(user),
                  "user": user, "team": team, "text": text, "ts": f"{time.time():.6f}"},
        "authorizations": [{"team_id": team, "user_id": fake_slack.BOT_USER, "is_bot": True}],
    }


def dm_channel(user: str) -> str:
    return "D" + user[1:]


def signed_headers(body: str, *, timestamp: int | None = None,
                   secret: str = fake_slack.SIGNING_SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": str(signature)}


async def post_slack(running: Running, body: dict[str, Any] | str, *,
                     timestamp: int | None = None, secret: str = fake_slack.SIGNING_SECRET,
                     headers: dict[str, str] | None = None,
                     content_type: str = "application/json") -> httpx.Response:
    """POST a signed request to our /slack/events, as Slack would."""
    raw = body if isinstance(body, str) else json.dumps(body)
    sent = {"Content-Type": content_type, **signed_headers(raw, timestamp=timestamp,
                                                          secret=secret), **(headers or {})}
    async with httpx.AsyncClient() as client:
        return await client.post(f"http://127.0.0.1:{running.service.http_port}/slack/events",
                                 content=raw, headers=sent)


def slack_text(call: Any) -> str:
    """What the user reads in a chat.postMessage call: its blocks' text."""
    return "\n".join(block["text"]["text"] for block in call.params.get("blocks", [])
                     if block["type"] == "section")


def slack_buttons(call: Any) -> list[dict[str, Any]]:
    return [element for block in call.params.get("blocks", []) if block["type"] == "actions"
            for element in block["elements"]]


# ---- Telegram ------------------------------------------------------------------------------

def telegram_update(user: int, text: str, *, update_id: int | None = None,
                    chat_type: str = "private") -> dict[str, Any]:
    chat = {"id": user, "type": chat_type, "first_name": "Anna"}
    if chat_type != "private":
        chat = {"id": -100 - user, "type": chat_type, "title": "AP team"}
    return {
        "update_id": update_id if update_id is not None else next(_ids),
        "message": {
            "message_id": next(_ids), "date": int(time.time()), "chat": chat, "text": text,
            "from": {"id": user, "is_bot": False, "first_name": "Anna"},
        },
    }


async def post_telegram(running: Running, update: dict[str, Any] | str,
                        secret: str | None = fake_telegram.WEBHOOK_SECRET) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    raw = update if isinstance(update, str) else json.dumps(update)
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"http://127.0.0.1:{running.service.http_port}/telegram/webhook",
            content=raw, headers=headers)


# ---- both ----------------------------------------------------------------------------------

async def processed(key: str) -> ChatInbound:
    """Wait until the chat inbox has answered (or deliberately ignored) one delivery."""
    return await until(lambda: ChatInbound.get_or_none(key=key, state="processed"))


async def emailed_code(sink: SmtpSink, n: int, to: str = "ap@acme.example") -> str:
    """The code in the n-th accepted mail (1-based), which must be to `to`."""
    received = (await sink.wait_for(n))[n - 1]
    assert received.rcpt_tos == [to]
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None
    match = CODE.search(str(body.get_content()))  # type: ignore[attr-defined]
    assert match, "no code in the mail"
    return match[1]
