"""Delivering outbox messages to Slack: the neutral payload as Block Kit, via chat.postMessage.

The payload's "text" becomes a plain-text section (and the notification fallback), each
button a URL button; a payload may carry its own "blocks". Errors that no retry can fix
(the channel or account is gone, the message is malformed) are permanent; rate limits,
5xx and network trouble are temporary, so the outbox tries again later.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.chatreply import decode_payload
from notifier.delivery import DeliveryError

PERMANENT = frozenset({
    "channel_not_found", "is_archived", "account_inactive", "user_not_found", "user_disabled",
    "not_in_channel", "cannot_dm_bot", "invalid_blocks", "msg_too_long", "no_text",
    "restricted_action",
})
SECTION_MAX = 3000  # characters in one section's text
BUTTON_LABEL_MAX = 75
BUTTONS_PER_ROW = 5
MAX_BLOCKS = 50


def web_client(token: str, api_url: str) -> AsyncWebClient:
    """A Web API client for `api_url` (ending in "/") that waits out one 429 itself."""
    client = AsyncWebClient(token=token, base_url=api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client


def escape(text: str) -> str:
    """Slack's three control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_blocks(text: str, buttons: list[dict[str, str]]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "plain_text", "text": text[i:i + SECTION_MAX],
                                     "emoji": False}}
        for i in range(0, max(len(text), 1), SECTION_MAX)
    ]
    for start in range(0, len(buttons), BUTTONS_PER_ROW):
        row = buttons[start:start + BUTTONS_PER_ROW]
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": f"open_link_{start + n}", "url": button["url"],
             "text": {"type": "plain_text", "text": button["label"][:BUTTON_LABEL_MAX]}}
            for n, button in enumerate(row)
        ]})
    return blocks[:MAX_BLOCKS]


class SlackSender:
    channel = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, recipient: str, payload: bytes) -> None:
        try:
            message = decode_payload(payload)
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        blocks = message.get("blocks") or slack_blocks(message["text"], message["buttons"])
        try:
            await self.client.chat_postMessage(
                channel=recipient, text=escape(message["text"])[:SECTION_MAX], blocks=blocks,
                unfurl_links=False, unfurl_media=False,
            )
        except SlackApiError as exc:
            raise _api_error(exc) from exc
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"slack: {type(exc).__name__}: {exc}"[:300]) from exc


def _api_error(exc: SlackApiError) -> DeliveryError:
    status = int(getattr(exc.response, "status_code", 0) or 0)
    error = str(exc.response.get("error", "") if exc.response is not None else "")
    permanent = error in PERMANENT and status < 500 and status != 429
    return DeliveryError(f"slack chat.postMessage: {error or 'error'} (HTTP {status})",
                         permanent=permanent)
