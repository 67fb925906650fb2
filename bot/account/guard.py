"""What every account page request passes: the session cookie, CSRF on POSTs, a rate
limit per session, the security headers, and an audit row per page view."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.account import strings
from vault import audit, sessions
from vault.api.ratelimit import RateLimiter
from vault.clock import Clock
from vault.config import Config
from vault.formats import Formats
from vault.invoices import AccountScope
from vault.links import LinkSigner
from vault.models import AccountSession, Contact
from vault.vocabulary.roles import Role
from vault.web import client_ip

COOKIE = "invoicebot_account"  # path "/": the link's page (/a/) sees a live session too
# No inline script or style anywhere: one stylesheet of our own, no frames, no referrer.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # every page here shows account data
}

templates = Environment(
    loader=FileSystemLoader(str(files("vault").joinpath("templates/account"))),
    autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
templates.globals["_"] = strings._


@dataclass
class Visit:
    """One request of a live session: who, their scope, formats and role."""

    request: Request
    session: AccountSession
    contact: Contact
    scope: AccountScope
    fmt: Formats
    role: Role
    today: date

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        body = templates.get_template(name).render(
            visit=self, contact=self.contact, account=self.scope.account, csrf=self.csrf,
            fmt=self.fmt, role=self.role, **values)
        return HTMLResponse(body, status, HEADERS)


def plain_page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page outside a session (the link's page, refusals)."""
    body = templates.get_template(name).render(visit=None, **values)
    return HTMLResponse(body, status, HEADERS)


Handler = Callable[[Visit], Awaitable[Response]]


class Guard:
    """Wraps each page handler: no live session, no page; a POST without this session's
    CSRF token gets 403 and changes nothing; too many requests, 429."""

    def __init__(self, config: Config, cookie_signer: LinkSigner, clock: Clock) -> None:
        self.rules = sessions.SessionRules(config.access.session_idle,
                                           config.access.session_max)
        self.signer = cookie_signer
        self.clock = clock
        self.secure = config.public_url.startswith("https://")
        self.limiter = RateLimiter(config.access.session_rate)

    def __call__(self, handler: Handler, view: str) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            visit = await self.visit(request)
            if visit is None:
                return self.ended()
            # The row id is a SHA-256 in hex: its first 15 digits key the session's bucket.
            if self.limiter.take(int(visit.session.id[:15], 16)):
                return plain_page("message.html", 429, title=strings.TOO_MANY,
                                  text=strings.TOO_MANY)
            if request.method == "POST" and not await self.csrf_ok(request, visit):
                return plain_page("message.html", 403, title=strings.FORBIDDEN,
                                  text=strings.FORBIDDEN)
            await audit.record(f"vault.account.{view}", account_id=visit.contact.account_id,
                               contact_id=visit.contact.id, ip=client_ip(request),
                               user_agent=request.headers.get("user-agent", ""),
                               path=request.url.path)
            return await handler(visit)
        return guarded

    async def visit(self, request: Request) -> Visit | None:
        secret = self.signer.unsign(request.cookies.get(COOKIE, ""))
        if secret is None:
            return None
        found = await sessions.current(secret, self.rules, self.clock.now())
        if found is None:
            return None
        session, contact = found
        scope = await AccountScope.for_contact(contact)
        account = scope.account
        fmt = Formats.of(contact.locale or account.locale or "en",
                         contact.timezone or account.timezone or "UTC")
        return Visit(request, session, contact, scope, fmt, Role.of(contact.role),
                     self.clock.today(fmt.timezone))

    @staticmethod
    async def csrf_ok(request: Request, visit: Visit) -> bool:
        form = await request.form()
        sent = form.get("csrf")
        return isinstance(sent, str) and hmac.compare_digest(sent, visit.csrf)

    def ended(self) -> Response:
        response = plain_page("message.html", 401, title=strings.EXPIRED, text=strings.EXPIRED)
        response.delete_cookie(COOKIE, path="/", secure=self.secure, httponly=True,
                               samesite="lax")
        return response

    def set_cookie(self, response: Response, secret: str) -> None:
        response.set_cookie(COOKIE, self.signer.sign(secret), path="/",
                            max_age=int(self.rules.longest.total_seconds()),
                            secure=self.secure, httponly=True, samesite="lax")
