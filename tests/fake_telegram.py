"""A fake Telegram Bot API: a real HTTP server on loopback that answers like Telegram and
records every call, for the real python-telegram-bot client (its base_url pointed here).

    async with FakeTelegram() as telegram:
        config api_url = telegram.api_url
        ... (await telegram.wait_for("sendMessage"))[0].params["text"] ...
        telegram.block(chat_id)                 # "Forbidden: bot was blocked by the user"
        telegram.fail("sendMessage", 429, retry_after=1)
        telegram.push_update({...})             # served to getUpdates (polling mode)

PTB sends form-encoded or multipart requests with nested objects (reply_markup) as JSON
strings; they are decoded here so tests read plain dicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_TOKEN = "123456:TEST-telegram-token"
WEBHOOK_SECRET = "test-webhook-secret-0123456789"
BOT_USERNAME = "acme_invoices_bot"
_NESTED = ("reply_markup", "link_preview_options", "commands", "allowed_updates")


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    port: int = 0
    blocked: set[str] = field(default_factory=set)
    _failures: dict[str, deque[tuple[int, int]]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def block(self, chat_id: int | str) -> None:
        self.blocked.add(str(chat_id))

    def fail(self, method: str, status: int, retry_after: int = 0) -> None:
        self._failures.setdefault(method, deque()).append((status, retry_after))

    def named(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, n: int = 1, timeout: float = 10) -> list[Call]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.named(method)) >= n), timeout)
        return self.named(method)

    async def push_update(self, update: dict[str, Any]) -> None:
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()

    # ---- server ------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._changed:
            self._changed.notify_all()
        await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != BOT_TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        async with self._changed:
            self.calls.append(Call(method, params))
            self._changed.notify_all()
        queue = self._failures.get(method)
        if queue:
            status, retry_after = queue.popleft()
            if retry_after:
                return _error(429, f"Too Many Requests: retry after {retry_after}",
                              {"retry_after": retry_after})
            return _error(status, "Internal Server Error" if status >= 500 else "Bad Request")
        if method == "getUpdates":
            return await self._get_updates(params)
        return self._answer(method, params)

    def _answer(self, method: str, p: dict[str, Any]) -> web.Response:
        if method == "getMe":
            return _ok({"id": 4242, "is_bot": True, "first_name": "ACME Invoices",
                        "username": BOT_USERNAME, "can_join_groups": False})
        if method in ("setWebhook", "deleteWebhook", "setMyCommands"):
            return _ok(True)
        if method == "sendMessage":
            chat = str(p.get("chat_id"))
            if chat in self.blocked:
                return _error(403, "Forbidden: bot was blocked by the user")
            if chat.startswith("-999"):
                return _error(400, "Bad Request: chat not found")
            return _ok({"message_id": len(self.calls), "date": int(time.time()),
                        "chat": {"id": int(chat), "type": "private"}, "text": p.get("text")})
        return _error(404, "Not Found: method not found")

    async def _get_updates(self, p: dict[str, Any]) -> web.Response:
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= offset]

        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: bool(pending())),
                                       min(timeout, 1.0))
        return _ok(pending())


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        params: dict[str, Any] = dict(await request.json())
    else:
        params = {k: str(v) for k, v in (await request.post()).items()}
    for key in _NESTED:
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None
           ) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
