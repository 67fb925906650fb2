"""Slack: direct messages, mentions, the /invoices command and button clicks, via slack-bolt.

Only translation happens here: a Slack delivery becomes a ChatMessage for the chat inbox,
which stores it (deduplicated by event id, so Slack's retries change nothing) before the
request is acknowledged; the pipeline's answer comes back through the outbox and
SlackSender. slack-bolt checks every request's signature and refuses timestamps older
than five minutes. Answers always go to the user's direct messages, never to a channel
where others would read them.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.slack_send import web_client
from bot.chatguard import ChatUser
from bot.chatinbox import ChatMessage
from vault.clock import Clock
from vault.config_chat import SlackConfig
from vault.vocabulary import Channel

log = logging.getLogger(__name__)

Receive = Callable[[ChatMessage], Awaitable[bool]]
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def plain_text(text: str) -> str:
    """What the user typed: Slack's mentions dropped, <mailto:a@b|a@b> and <url|label>
    unwrapped, &amp; &lt; &gt; decoded."""
    text = _MENTION.sub(" ", text)
    text = _LINK.sub(lambda m: m[2] if m[2] else m[1].removeprefix("mailto:"), text)
    return " ".join(html.unescape(text).split())


def user_team(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The user's own workspace: differs from the app's for Slack Connect users."""
    return str(event.get("user_team") or event.get("team") or body.get("team_id") or "")


class _SameToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself, then warns at every start
    that our client's token wins over it: it is the same token, so the warning says
    nothing (an operator would only learn to ignore warnings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_bolt_log = logging.getLogger("slack_bolt.AsyncApp")
if not any(isinstance(f, _SameToken) for f in _bolt_log.filters):
    _bolt_log.addFilter(_SameToken())


class SlackChannel:
    def __init__(self, config: SlackConfig, receive: Receive, clock: Clock) -> None:
        self.config = config
        self.receive = receive
        self.clock = clock
        # Tokens are never logged: slack_sdk logs request bodies at DEBUG, and the OpenID
        # Connect exchange carries the client secret in one.
        logging.getLogger("slack_sdk").setLevel(logging.INFO)
        self.client = web_client(config.bot_token, config.api_url)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=config.signing_secret,  # "" in socket mode: nothing to verify
            request_verification_enabled=config.mode == "http",
            # Our listeners only store the delivery (milliseconds), so Slack gets its ack
            # after the row is durable; the work runs later in the chat inbox.
            process_before_response=True,
        )
        self.app.event("message")(self._on_message)
        self.app.event("app_mention")(self._on_mention)
        self.app.command("/invoices")(self._on_command)
        self.app.action(re.compile(".*"))(self._on_action)
        self.handler = AsyncSlackRequestHandler(self.app)
        # Socket mode has no signing secret and no HTTP route to check a signature on.
        self.verifier = (SignatureVerifier(config.signing_secret) if config.signing_secret
                         else None)
        self.socket: AsyncSocketModeHandler | None = None

    def routes(self) -> list[BaseRoute]:
        if self.config.mode != "http":
            return []
        return [Route("/slack/events", self._http, methods=["POST"])]

    async def _http(self, request: Request) -> Response:
        # Checked here first: bolt parses the body before it checks the signature, so
        # junk from anyone became a 500 and a traceback. (BodyLimit capped the body.)
        if self.verifier is None or not self.verifier.is_valid_request(await request.body(),
                                                                      request.headers):
            return JSONResponse({"error": "invalid request"}, 401)
        return await self.handler.handle(request)

    @property
    def runs_once(self) -> bool:
        """Socket mode: one connection for all instances, held under a lease
        (bot.chatservice); HTTP mode: every instance receives what is posted to it."""
        return self.config.mode == "socket"

    async def connect(self) -> None:
        """Socket mode: open the websocket (the lease holder only)."""
        self.socket = AsyncSocketModeHandler(self.app, self.config.app_token)
        await self.socket.connect_async()

    async def disconnect(self) -> None:
        socket, self.socket = self.socket, None
        if socket is not None:
            await socket.close_async()

    # ---- listeners: translate and store, nothing else --------------------------------------

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if (event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id")
                or not event.get("user")):
            return  # edits, joins, bots' posts and channel chatter are not requests
        await self._store(body, event, chat_id=str(event["channel"]))

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("user") and not event.get("bot_id"):
            # Mentioned in a channel: answer in the user's DM (a user id as channel).
            await self._store(body, event, chat_id=str(event["user"]))

    async def _store(self, body: dict[str, Any], event: dict[str, Any], chat_id: str) -> None:
        user = ChatUser(Channel.SLACK, user_team(body, event), str(event["user"]), chat_id)
        await self.receive(ChatMessage(key=f"slack:{body.get('event_id') or event.get('ts')}",
                                       user=user, text=plain_text(str(event.get("text", ""))),
                                       received_at=self.clock.now()))

    async def _on_command(self, ack: Any, body: dict[str, Any]) -> None:
        channel = str(body.get("channel_id", ""))
        in_dm = channel.startswith("D")
        user = ChatUser(Channel.SLACK, str(body.get("team_id", "")), str(body["user_id"]),
                        channel if in_dm else str(body["user_id"]))
        text = plain_text(str(body.get("text", ""))) or "invoices"
        await self.receive(ChatMessage(key=f"slack:command:{body.get('trigger_id')}",
                                       user=user, text=text, received_at=self.clock.now()))
        await ack() if in_dm else await ack("I will answer in our direct messages.")

    async def _on_action(self, ack: Any) -> None:
        await ack()  # URL buttons open in the browser; Slack still wants the click acked
