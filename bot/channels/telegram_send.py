"""Delivering outbox messages to Telegram: the Telegram renderer and transport, paced as
Telegram asks.

An Outgoing (notifier.message) becomes HTML text (its title and headings in bold) with
an inline keyboard of URL buttons; a row queued before Outgoing ({"text", "buttons"}
JSON) is sent as plain text with its buttons, as it always was.

Pacing (ChatPacing): at most one message a second per chat and OVERALL_RATE a second in
all, and a RetryAfter halts every request for the time Telegram names (PTB's
AIORateLimiter, plus a per-chat limiter for private chats, which AIORateLimiter does not
pace). Blocked bots and vanished chats are permanent failures; the rest is retried.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from html import escape
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.ext import AIORateLimiter

from notifier.delivery import DeliveryError
from notifier.message import (
    Legacy,
    Link,
    Outgoing,
    chat_buttons,
    chat_lines,
    legacy_chat,
    loads,
    more_note,
)

# Opt in to PTB 23's timedeltas now: without it every flood-control answer (RetryAfter)
# raises a deprecation warning about the type of retry_after, which we never read.
os.environ.setdefault("PTB_TIMEDELTA", "true")

OVERALL_RATE = 25  # messages a second, all chats together (Telegram's limit is about 30)
PER_CHAT_PERIOD = 1.0  # seconds between two messages to one chat
MAX_RETRIES = 3  # RetryAfter answers waited out before the outbox takes over
TEXT_MAX = 4096
LABEL_MAX = 64
PERMANENT_BAD_REQUESTS = ("chat not found", "user not found", "peer_id_invalid",
                          "message is too long", "button_url_invalid", "chat_write_forbidden")


class ChatPacing(AIORateLimiter):
    """AIORateLimiter with a leaky bucket per chat on top."""

    def __init__(self, per_chat_period: float = PER_CHAT_PERIOD,
                 overall_rate: float = OVERALL_RATE, max_retries: int = MAX_RETRIES) -> None:
        super().__init__(overall_max_rate=overall_rate, overall_time_period=1,
                         max_retries=max_retries)
        self.per_chat_period = per_chat_period
        self.chats: dict[str, AsyncLimiter] = {}

    def _chat(self, chat_id: object) -> AsyncLimiter:
        if len(self.chats) > 1024:  # forget idle chats: their buckets are full again
            self.chats = {k: v for k, v in self.chats.items() if not v.has_capacity(1)}
        key = str(chat_id)
        if key not in self.chats:
            self.chats[key] = AsyncLimiter(1, self.per_chat_period)
        return self.chats[key]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if chat_id is None:
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
        async with self._chat(chat_id):
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)


def keyboard(buttons: list[Link]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label[:LABEL_MAX], url=b.url)] for b in buttons]
    )


def render(message: Outgoing) -> tuple[str, list[Link]]:
    """HTML text (parse_mode HTML) and the buttons of one message. A text too long for
    Telegram loses whole lines from its end, so no tag is ever cut in two."""
    buttons, left_out = chat_buttons(message)
    lines = [f"<b>{escape(message.title, quote=False)}</b>"] if message.title_in_body else []
    for section in message.sections:
        lines += [""] if lines else []
        lines += [f"<b>{escape(section.heading, quote=False)}</b>"] if section.heading else []
        lines += [escape(line, quote=False) for line in chat_lines(section, message.words)]
    if left_out:
        lines.append(escape(more_note(left_out, message.words), quote=False))
    while len(text := "\n".join(lines)) > TEXT_MAX:
        lines[-2:] = ["…"]
    return text, buttons


def _stored(payload: bytes) -> tuple[str, list[Link], str | None]:
    """Text, buttons and parse mode of an outbox payload."""
    message = loads(payload)
    if isinstance(message, Legacy):
        text, buttons = legacy_chat(message.payload)
        if len(text) > TEXT_MAX:
            text = text[:TEXT_MAX - 1] + "…"
        return text, [Link(b["label"], b["url"]) for b in buttons], None
    return (*render(message), "HTML")


class TelegramSender:
    channel = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot  # built with ChatPacing as its rate limiter

    async def send(self, recipient: str, payload: bytes) -> None:
        try:
            text, buttons, parse_mode = _stored(payload)
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        try:
            await self.bot.send_message(
                chat_id=recipient, text=text or "…", reply_markup=keyboard(buttons),
                parse_mode=parse_mode,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except Forbidden as exc:  # the user blocked the bot, or left
            raise DeliveryError(f"telegram: forbidden: {exc.message}", permanent=True) from exc
        except BadRequest as exc:
            permanent = any(p in exc.message.lower() for p in PERMANENT_BAD_REQUESTS)
            raise DeliveryError(f"telegram: bad request: {exc.message}",
                                permanent=permanent) from exc
        except InvalidToken as exc:  # an operator's mistake: keep the message for after the fix
            raise DeliveryError("telegram: the bot token was refused") from exc
        except TelegramError as exc:  # RetryAfter past our retries, 5xx, network, timeouts
            raise DeliveryError(f"telegram: {type(exc).__name__}: {exc.message}"[:300]) from exc
