"""Telegram: private chats with the bot, via python-telegram-bot, as a webhook on our HTTP
server (the Application built with updater(None)) or by polling.

Only translation happens here: an Update becomes a ChatMessage for the chat inbox, which
stores it (deduplicated by update id) before Telegram gets its 200; a wrong or missing
secret-token header gets 403 and changes nothing. The pipeline's answer comes back through
the outbox and TelegramSender. Commands are requests too: "/invoices March" reads as
"invoices March", "/start <token>" redeems a one-click link from an email.

In webhook mode our route translates the Update itself rather than passing it through
Application.process_update: PTB hands a handler's exception to its error handlers, so a
failure to store the update would still answer 200 and Telegram would not retry; here it
answers 500 and Telegram delivers the update again. Polling mode uses a PTB handler.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand, Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.telegram_send import ChatPacing
from bot.chatguard import ChatUser
from bot.chatinbox import ChatMessage
from vault.clock import Clock
from vault.config_chat import TelegramConfig
from vault.vocabulary import Channel

log = logging.getLogger(__name__)

Receive = Callable[[ChatMessage], Awaitable[bool]]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
COMMANDS = (("invoices", "List invoices, e.g. /invoices March"), ("unpaid", "Unpaid invoices"),
            ("help", "What you can ask"), ("link", "Link this chat: /link you@company.example"),
            ("unlink", "Unlink this chat"))


def request_text(text: str) -> str:
    """A command as the words it stands for: "/invoices@our_bot March" -> "invoices March"."""
    if not text.startswith("/"):
        return text.strip()
    first, _, rest = text.partition(" ")
    return f"{first[1:].split('@')[0]} {rest}".strip()


def chat_message(update: Update, now: datetime) -> ChatMessage | None:
    """The request in an update, or None: only new text messages in private chats count
    (in a group, an answer would show invoices to everyone there)."""
    message = update.message
    if message is None or message.text is None or message.from_user is None:
        return None
    if message.chat.type != "private" or message.from_user.is_bot:
        return None
    user = ChatUser(Channel.TELEGRAM, "", str(message.from_user.id), str(message.chat.id))
    return ChatMessage(key=f"telegram:{update.update_id}", user=user,
                       text=request_text(message.text), received_at=now)


class TelegramChannel:
    def __init__(self, config: TelegramConfig, receive: Receive, clock: Clock) -> None:
        self.config = config
        self.receive = receive
        self.clock = clock
        # Tokens are never logged: Bot API URLs carry the bot token, httpx logs every URL at
        # INFO and PTB's bots log theirs at DEBUG, so those loggers stay above that.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        for name in ("telegram.Bot", "telegram.ext.ExtBot"):
            logging.getLogger(name).setLevel(logging.INFO)
        builder = (
            Application.builder().token(config.bot_token)
            .base_url(f"{config.api_url}/bot").base_file_url(f"{config.api_url}/file/bot")
            .rate_limiter(ChatPacing(per_chat_period=config.per_chat_period))
        )
        if config.mode == "webhook":
            builder = builder.updater(None)  # updates arrive on our own HTTP server
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))  # polling mode
        self.username = config.bot_username

    def routes(self) -> list[BaseRoute]:
        if self.config.mode != "webhook":
            return []
        return [Route("/telegram/webhook", self._webhook, methods=["POST"])]

    @property
    def runs_once(self) -> bool:
        """Polling: one poller for all instances, held under a lease (bot.chatservice);
        webhook: every instance receives what is posted to it."""
        return self.config.mode == "polling"

    async def start(self) -> None:
        """Every instance: the bot (it sends answers) and, with a webhook, the webhook."""
        await self.application.initialize()  # getMe: checks the token, learns our username
        self.username = self.username or self.application.bot.username
        bot = self.application.bot
        await bot.set_my_commands([BotCommand(name, about) for name, about in COMMANDS])
        if self.config.mode == "webhook":
            await bot.set_webhook(url=self.config.webhook_url,
                                  secret_token=self.config.webhook_secret,
                                  allowed_updates=["message"])

    async def connect(self) -> None:
        """Polling: start getUpdates (the lease holder only). A poller that took over
        starts at the oldest unconfirmed update: those its predecessor stored already
        are recognised by their update id (bot.chatinbox)."""
        await self.application.bot.delete_webhook()  # Telegram refuses getUpdates with one
        assert self.application.updater is not None
        await self.application.updater.start_polling(allowed_updates=["message"])
        await self.application.start()

    async def disconnect(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()

    async def stop(self) -> None:
        await self.disconnect()
        await self.application.shutdown()

    async def _webhook(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.config.webhook_secret.encode()):
            return Response(status_code=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            return Response("not a Telegram update", status_code=400)
        message = chat_message(update, self.clock.now())
        if message is not None:
            await self.receive(message)  # a database failure is a 500: Telegram retries
        return Response(status_code=200)

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = chat_message(update, self.clock.now()) if isinstance(update, Update) else None
        if message is not None:
            await self.receive(message)
