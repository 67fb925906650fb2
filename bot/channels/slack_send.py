"""Delivering outbox messages to Slack: the Slack renderer and transport.

An Outgoing (notifier.message) becomes Block Kit: a header with its title (unless its
first line says the same, see Outgoing.title_in_body), one mrkdwn
section per part (its heading in bold), and its links as URL buttons; the plain text
is the notification fallback. A row queued before Outgoing ({"text", "buttons"} JSON)
becomes a plain-text section and its buttons, as it always did. Errors that no retry can fix
(the channel or account is gone, the message is malformed) are permanent; rate limits,
5xx and network trouble are temporary, so the outbox tries again later.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

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
    plain_text,
)

PERMANENT = frozenset({
    "channel_not_found", "is_archived", "account_inactive", "user_not_found", "user_disabled",
    "not_in_channel", "cannot_dm_bot", "invalid_blocks", "msg_too_long", "no_text",
    "restricted_action",
})
SECTION_MAX = 3000  # characters in one section's text
BUTTON_LABEL_MAX = 75
BUTTONS_PER_ROW = 5
MAX_BLOCKS = 50
HEADER_MAX = 150


def web_client(token: str, api_url: str) -> AsyncWebClient:
    """A Web API client for `api_url` (ending in "/") that waits out one 429 itself."""
    client = AsyncWebClient(token=token, base_url=api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client


def escape(text: str) -> str:
    """Slack's three control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(message: Outgoing) -> tuple[str, list[dict[str, Any]]]:
    """The notification text and the blocks of one message. Buttons come first when
    blocks must be cut to Slack's limit: the text fallback still has every line."""
    buttons, left_out = chat_buttons(message)
    actions = _actions(buttons)
    if left_out:
        actions.insert(0, {"type": "context", "elements": [
            {"type": "mrkdwn", "text": escape(more_note(left_out, message.words))}]})
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "text": message.title[:HEADER_MAX] or "…", "emoji": False}}
    ] if message.title_in_body else []
    for section in message.sections:
        lines = [f"*{escape(section.heading)}*"] if section.heading else []
        lines += [escape(line) for line in chat_lines(section, message.words)]
        blocks += _sections("\n".join(lines), "mrkdwn") if lines else []
    return plain_text(message), blocks[:MAX_BLOCKS - len(actions)] + actions


def legacy_blocks(text: str, buttons: list[Link]) -> list[dict[str, Any]]:
    """A row queued before Outgoing: its text as plain-text sections, then its buttons."""
    return (_sections(text, "plain_text") + _actions(buttons))[:MAX_BLOCKS]


def _sections(text: str, kind: str) -> list[dict[str, Any]]:
    plain = {"emoji": False} if kind == "plain_text" else {}
    return [{"type": "section", "text": {"type": kind, "text": text[i:i + SECTION_MAX], **plain}}
            for i in range(0, max(len(text), 1), SECTION_MAX)]


def _actions(buttons: list[Link]) -> list[dict[str, Any]]:
    return [{"type": "actions", "elements": [
        {"type": "button", "action_id": f"open_link_{start + n}", "url": button.url,
         "text": {"type": "plain_text", "text": button.label[:BUTTON_LABEL_MAX]}}
        for n, button in enumerate(buttons[start:start + BUTTONS_PER_ROW])
    ]} for start in range(0, len(buttons), BUTTONS_PER_ROW)]


def _stored(payload: bytes) -> tuple[str, list[dict[str, Any]]]:
    message = loads(payload)
    if isinstance(message, Legacy):
        text, buttons = legacy_chat(message.payload)
        return text, legacy_blocks(text, [Link(b["label"], b["url"]) for b in buttons])
    return render(message)


class SlackSender:
    channel = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, recipient: str, payload: bytes) -> None:
        try:
            text, blocks = _stored(payload)
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        try:
            await self.client.chat_postMessage(
                channel=recipient, text=escape(text)[:SECTION_MAX], blocks=blocks,
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
