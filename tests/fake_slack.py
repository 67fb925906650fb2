"""A fake Slack Web API: a real HTTP server on loopback that answers like Slack and records
every call, for the real slack-sdk / slack-bolt clients (their base_url pointed here).

    async with FakeSlack() as slack:
        config api_url = slack.api_url
        ... await slack.wait_for("chat.postMessage") ...
        slack.fail("chat.postMessage", error="channel_not_found")   # next call fails
        slack.fail("chat.postMessage", status=429, retry_after=1)

Methods: auth.test, chat.postMessage, conversations.open, openid.connect.token,
openid.connect.userInfo, apps.connections.open (Socket Mode: a websocket on /socket that
the test drives with `socket_send`). Anything else answers unknown_method.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-fake"
APP_TOKEN = "xapp-test-app-token"
SIGNING_SECRET = "test-signing-secret-0123456789"
OIDC_CLIENT_ID = "1111.2222"
OIDC_CLIENT_SECRET = "oidc-client-secret"
TEAM = "T0ACME"  # the workspace the app is installed in
BOT_USER = "U0BOT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str  # the bearer token the client sent ("" if none)


@dataclass
class Failure:
    status: int = 200
    error: str = ""
    retry_after: int = 0


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    port: int = 0
    _failures: dict[str, deque[Failure]] = field(default_factory=dict)
    _grants: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (team, user)
    _identities: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> same
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def authorize_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/openid/connect/authorize"

    def fail(self, method: str, *, status: int = 200, error: str = "",
             retry_after: int = 0) -> None:
        """The next call of `method` fails like Slack would."""
        self._failures.setdefault(method, deque()).append(Failure(status, error, retry_after))

    def sign_in(self, team: str, user: str) -> str:
        """A user signs in with Slack in the browser: the code Slack puts in the redirect."""
        code = secrets.token_hex(8)
        self._grants[code] = (team, user)
        return code

    def named(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, n: int = 1, timeout: float = 10) -> list[Call]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.named(method)) >= n), timeout)
        return self.named(method)

    # ---- server ------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in self._sockets:
            await ws.close()
        await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = dict(request.query)
        if request.body_exists:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update({k: str(v) for k, v in (await request.post()).items()})
        auth = request.headers.get("Authorization", "")
        call = Call(method, params, auth.removeprefix("Bearer ") if auth.startswith("Bearer")
                    else "")
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        failure = self._next_failure(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.json_response({"ok": False, "error": failure.error or "ratelimited"},
                                     status=failure.status, headers=headers)
        return web.json_response(self._answer(method, call, auth))

    def _next_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    def _answer(self, method: str, call: Call, auth: str) -> dict[str, Any]:
        p = call.params
        if method == "openid.connect.token":
            return self._token(p, auth)
        if method == "openid.connect.userInfo":
            team, user = self._identities.get(call.token, ("", ""))
            if not user:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "sub": user, "https://slack.com/user_id": user,
                    "https://slack.com/team_id": team}
        if method == "apps.connections.open":
            if call.token != APP_TOKEN:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        if call.token != BOT_TOKEN:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {"ok": True, "url": "https://acme.slack.test/", "team": "Acme",
                    "user": "invoicebot", "team_id": TEAM, "user_id": BOT_USER,
                    "bot_id": "B0BOT"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": p.get("channel"), "ts": f"{len(self.calls)}.000100",
                    "message": {"text": p.get("text", ""), "type": "message"}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(p.get("users", ""))[1:]}}
        return {"ok": False, "error": "unknown_method"}

    def _token(self, p: dict[str, Any], auth: str) -> dict[str, Any]:
        expected = base64.b64encode(f"{OIDC_CLIENT_ID}:{OIDC_CLIENT_SECRET}".encode()).decode()
        in_body = (p.get("client_id"), p.get("client_secret")) == (OIDC_CLIENT_ID,
                                                                    OIDC_CLIENT_SECRET)
        if auth != f"Basic {expected}" and not in_body:  # Slack takes either
            return {"ok": False, "error": "invalid_client"}
        identity = self._grants.pop(str(p.get("code", "")), None)
        if identity is None:
            return {"ok": False, "error": "invalid_code"}
        token = "xoxp-" + secrets.token_hex(8)
        self._identities[token] = identity
        return {"ok": True, "access_token": token, "token_type": "Bearer", "id_token": "x.y.z"}

    # ---- Socket Mode ---------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with self._changed:
            self._sockets.append(ws)
            self._changed.notify_all()
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                async with self._changed:
                    self.socket_acks.append(json.loads(message.data))
                    self._changed.notify_all()
        return ws

    async def wait_for_socket(self, n: int, timeout: float = 10) -> None:
        """Until the n-th Socket Mode connection is open (socket_send uses the newest)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self._sockets) >= n),
                                   timeout)

    async def socket_send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Push an envelope to the connected app; returns its acknowledgement."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._sockets)), 10)
        await self._sockets[-1].send_json(envelope)
        envelope_id = envelope["envelope_id"]
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(
                lambda: any(a.get("envelope_id") == envelope_id for a in self.socket_acks)), 10)
        return next(a for a in self.socket_acks if a.get("envelope_id") == envelope_id)
