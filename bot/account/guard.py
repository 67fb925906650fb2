"""What every account page request passes: the session cookie, CSRF on POSTs, a rate
limit per session, the security headers, an audit row per page view, the access watch
(vault.access_watch) and, where the account wants it, step-up (vault.stepup)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.account import strings
from vault import access_watch, audit, sessions, stepup
from vault.api.ratelimit import RateLimiter
from vault.clock import Clock
from vault.config import Config
from vault.formats import Formats
from vault.invoices import AccountScope
from vault.links import LinkSigner
from vault.models import AccountSession, Contact, Document
from vault.pages import contact_language, environment
from vault.vocabulary.roles import Role
from vault.web import client_ip

COOKIE = "invoicebot_account"  # path "/": the link's page (/a/) sees a live session too
DEVICE_COOKIE = "invoicebot_device"  # a browser that passed step-up (vault.stepup)
VERIFY = "/account/verify"
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

TEMPLATES = "account"  # vault/templates/account, one environment per language (vault.pages)


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
    step_up: stepup.StepUpState

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def language(self) -> str:
        """The page's language: the contact's, else the account's, else English."""
        return contact_language(self.contact, self.scope.account)

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        body = environment(TEMPLATES, self.language).get_template(name).render(
            visit=self, contact=self.contact, account=self.scope.account, csrf=self.csrf,
            fmt=self.fmt, role=self.role, **values)
        return HTMLResponse(body, status, HEADERS)


def plain_page(name: str, status: int = 200, language: str = "en", **values: Any
               ) -> HTMLResponse:
    """A page outside a session (the link's page, refusals): in the link's contact's
    language when known, else English."""
    body = environment(TEMPLATES, language).get_template(name).render(visit=None, **values)
    return HTMLResponse(body, status, HEADERS)


def forbidden(language: str) -> HTMLResponse:
    """A form posted without this session's or link's token (or a stale one): 403, and
    nothing done."""
    return plain_page("message.html", 403, language, title=strings.FORBIDDEN,
                      text=strings.FORBIDDEN)


Handler = Callable[[Visit], Awaitable[Response]]


class Guard:
    """Wraps each page handler: no live session, no page; a POST without this session's
    CSRF token gets 403 and changes nothing; too many requests, 429."""

    def __init__(self, config: Config, cookie_signer: LinkSigner, clock: Clock) -> None:
        self.rules = sessions.SessionRules(config.access.session_idle,
                                           config.access.session_max)
        self.step_up = config.access.step_up
        self.signer = cookie_signer
        self.devices = LinkSigner(config.secret_keys, salt=stepup.DEVICE_SALT)
        self.clock = clock
        self.secure = config.public_url.startswith("https://")
        self.limiter = RateLimiter(config.access.session_rate)

    def __call__(self, handler: Handler, view: str, step_up_page: bool = False
                 ) -> Callable[[Request], Awaitable[Response]]:
        """The handler behind every check; `step_up_page`: the page where the code is
        typed, which a session that must step up may see."""
        async def guarded(request: Request) -> Response:
            visit = await self.visit(request)
            if visit is None:
                return self.ended()
            # The row id is a SHA-256 in hex: its first 15 digits key the session's bucket.
            if self.limiter.take(int(visit.session.id[:15], 16)):
                return plain_page("message.html", 429, visit.language,
                                  title=strings.TOO_MANY, text=strings.TOO_MANY)
            if request.method == "POST" and not await self.csrf_ok(request, visit):
                return forbidden(visit.language)
            await audit.record(f"vault.account.{view}", account_id=visit.contact.account_id,
                               contact_id=visit.contact.id, ip=client_ip(request),
                               user_agent=request.headers.get("user-agent", ""),
                               path=request.url.path)
            await self.watch(visit, view)
            if visit.step_up.pages_need_code and not step_up_page:
                return self.ask_for_code(visit)
            return await handler(visit)
        return guarded

    async def watch(self, visit: Visit, view: str) -> None:
        """Feed the access watch; a hit on this very request already counts for it."""
        now, rules = self.clock.now(), self.step_up.watch
        await access_watch.session_network(visit.session, visit.contact,
                                           client_ip(visit.request), now, rules)
        if view == "viewed":
            await access_watch.volume(visit.contact, access_watch.VIEW, now, rules)
        visit.step_up = await self.step_up_state(visit.request, visit.session, visit.contact,
                                                 visit.scope)

    async def downloaded(self, visit: Visit, documents: list[Document]) -> None:
        """One audit row per document served, as for download links; then the watch."""
        for document in documents:
            await audit.record("vault.document.download", account_id=visit.contact.account_id,
                               contact_id=visit.contact.id, document_id=document.id,
                               ip=client_ip(visit.request),
                               user_agent=visit.request.headers.get("user-agent", ""),
                               via="account_page")
        await access_watch.volume(visit.contact, access_watch.DOWNLOAD, self.clock.now(),
                                  self.step_up.watch)

    async def step_up_state(self, request: Request, session: AccountSession, contact: Contact,
                            scope: AccountScope) -> stepup.StepUpState:
        now = self.clock.now()
        device = stepup.device_passed_at(self.devices, request.cookies.get(DEVICE_COOKIE, ""),
                                         contact, self.step_up, now)
        return await stepup.state(session, contact, scope.account, self.step_up, device, now)

    @staticmethod
    def ask_for_code(visit: Visit, back: str = "") -> Response:
        """To the step-up page, and back to where the contact was going once passed."""
        request = visit.request
        if not back:
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if request.method != "GET":  # a form's page, not its POST target
                back = request.url.path.removesuffix("/zip")
        return RedirectResponse(f"{VERIFY}?{urlencode({'next': back})}", 303)

    def remember(self, response: Response, contact: Contact) -> None:
        """Remember this browser for access.remember_device (signed, bound to the contact)."""
        seconds = int(self.step_up.remember_device.total_seconds())
        if seconds > 0:
            response.set_cookie(DEVICE_COOKIE, stepup.device_token(self.devices, contact,
                                                                   self.clock.now()),
                                path="/", max_age=seconds, secure=self.secure,
                                httponly=True, samesite="lax")

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
                     self.clock.today(fmt.timezone),
                     await self.step_up_state(request, session, contact, scope))

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
