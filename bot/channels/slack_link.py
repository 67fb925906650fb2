"""One-click Slack linking from an email: a signed page and "Sign in with Slack".

    GET /slack/link/{signed token}  -> checks the offer, redirects to Slack's OpenID Connect
                                       authorize page (state signed, bound to a cookie)
    GET /slack/link/done            -> Slack sends the user back with a code; we exchange it
                                       (openid.connect.token, openid.connect.userInfo), so
                                       we know which Slack user opened the page, and link
                                       that user, in that workspace, to the contact

The token in the email is a random stored one (ChatLinkToken), signed so a mangled URL is
refused before any lookup; it is redeemed by the same Linker as a Telegram deep link, with
the same checks (single use, expiry, inactive contact, lock, workspace restriction).
Needs SLACK_OIDC_CLIENT_ID and SLACK_OIDC_CLIENT_SECRET; without them no offer is made.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.chatguard import ChatUser
from bot.chatlink import Linker, token_id
from bot.messages import Reply
from vault import audit
from vault.config_chat import SlackConfig
from vault.links import LinkSigner
from vault.models import ChatLinkToken
from vault.vocabulary import Channel
from vault.web import PAGE_HEADERS

log = logging.getLogger(__name__)

PAGE_SALT = "invoicebot.slack-link"
STATE_SALT = "invoicebot.slack-link-state"
STATE_MAX_AGE = 600  # seconds from our redirect to Slack's redirect back
COOKIE = "slack_link_nonce"
Linked = Callable[[ChatUser, Reply, str], Awaitable[None]]


def page(title: str, text: str, status: int = 200) -> HTMLResponse:
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="robots" content="noindex"><title>{html.escape(title)}</title></head>'
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>")
    return HTMLResponse(body, status, headers=PAGE_HEADERS)


def gone() -> HTMLResponse:
    return page("This link is no longer valid",
                'Ask the bot in Slack with "link you@company.example" to get a code by email.',
                410)


class SlackLinkPages:
    def __init__(self, config: SlackConfig, keys: tuple[str, ...], public_url: str,
                 linker: Linker, bot_client: AsyncWebClient, linked: Linked) -> None:
        self.config = config
        self.pages = LinkSigner(keys, salt=PAGE_SALT)
        self.states = LinkSigner(keys, salt=STATE_SALT)
        self.public_url = public_url
        self.linker = linker
        self.bot_client = bot_client  # the bot's token: opens the DM to answer in
        self.linked = linked  # queues the welcome message in Slack

    def url(self, token: str) -> str:
        return f"{self.public_url}/slack/link/{self.pages.sign(token)}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/slack/link/done"

    def routes(self) -> list[BaseRoute]:
        return [Route("/slack/link/done", self.done, methods=["GET"]),
                Route("/slack/link/{signed}", self.start, methods=["GET"])]

    async def start(self, request: Request) -> Response:
        token = self.pages.unsign(request.path_params["signed"])
        row = await ChatLinkToken.get_or_none(
            id=token_id(token), platform=Channel.SLACK, used_at=None,
            expires_at__gt=self.linker.clock.now(),
        ).select_related("contact__account") if token else None
        if row is None:
            await audit.record("bot.chat.link.refused", reason="bad_token",
                               platform=Channel.SLACK)
            return gone()
        nonce = secrets.token_urlsafe(16)
        query = {"response_type": "code", "scope": "openid", "client_id": self.config.client_id,
                 "redirect_uri": self.redirect_uri, "nonce": nonce,
                 "state": self.states.sign(f"{token}.{nonce}")}
        if row.contact.account.slack_team_id:  # straight to the account's own workspace
            query["team"] = row.contact.account.slack_team_id
        response = RedirectResponse(f"{self.config.authorize_url}?{urlencode(query)}", 303,
                                    headers=PAGE_HEADERS)
        response.set_cookie(COOKIE, nonce, max_age=STATE_MAX_AGE, path="/slack/link/",
                            httponly=True, secure=self.public_url.startswith("https:"),
                            samesite="lax")
        return response

    async def done(self, request: Request) -> Response:
        state = self.states.unsign(request.query_params.get("state", ""), STATE_MAX_AGE)
        token, _, nonce = (state or "").rpartition(".")
        cookie = request.cookies.get(COOKIE, "")
        code = request.query_params.get("code", "")
        if not token or not code or not secrets.compare_digest(nonce, cookie):
            await audit.record("bot.chat.link.refused", reason="bad_state",
                               platform=Channel.SLACK)
            return gone()
        try:
            user = await self._slack_user(code)
        except (SlackApiError, SlackClientError, KeyError) as exc:
            log.warning("Sign in with Slack failed: %s", type(exc).__name__)
            return page("Slack did not confirm your account", "Please open the link again.",
                        502)
        linked, reply = await self.linker.redeem_token(user, token)
        if not linked:
            return gone()
        await self.linked(user, reply, token_id(token))
        return page("Linked", reply.intro + " You can close this page and ask the bot in Slack.")

    async def _slack_user(self, code: str) -> ChatUser:
        """Who signed in, in which workspace, and their DM with our bot."""
        api = AsyncWebClient(base_url=self.config.api_url)
        # Credentials in the form body, which Slack accepts too: slack_sdk's helper sends
        # them with aiohttp's BasicAuth, deprecated in the aiohttp we run.
        grant = await api.api_call("openid.connect.token", data={
            "client_id": self.config.client_id, "client_secret": self.config.client_secret,
            "code": code, "redirect_uri": self.redirect_uri})
        info = await AsyncWebClient(token=str(grant["access_token"]),
                                    base_url=self.config.api_url).openid_connect_userInfo()
        user_id = str(info["https://slack.com/user_id"])
        team_id = str(info["https://slack.com/team_id"])
        dm = await self.bot_client.conversations_open(users=user_id)
        return ChatUser(Channel.SLACK, team_id, user_id, str(dm["channel"]["id"]))
