"""/a/{token}: the "Open your account" link.

A GET or HEAD only shows a page with a button: link scanners and previews fetch links,
and must neither start a session nor use the link up. The button POSTs (with a token
signed for this grant) and starts the session. A link starts one session: a second
POST (another browser) is offered a fresh link, mailed to the address on file.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.account import strings
from bot.account.guard import Guard, plain_page
from vault import audit, sessions
from vault.clock import Clock
from vault.links import LinkSigner, Refusal, check_grant
from vault.models import AccountSession, Contact, Grant
from vault.web import REFUSED_STATUS, client_ip

SendFreshLink = Callable[[Contact, str], Awaitable[None]]  # (contact, outbox key)


class Opening:
    def __init__(self, link_signer: LinkSigner, form_signer: LinkSigner, guard: Guard,
                 clock: Clock, send_fresh_link: SendFreshLink) -> None:
        self.links = link_signer
        self.forms = form_signer
        self.guard = guard
        self.clock = clock
        self.send_fresh_link = send_fresh_link
        # Refusals are what anonymous traffic causes: one row per IP per minute.
        self.refusals = audit.SampledAudit("vault.account.link_refused")

    def routes(self) -> list[BaseRoute]:
        return [Route("/a/{token}", self.show, methods=["GET"]),  # Starlette adds HEAD
                Route("/a/{token}", self.open, methods=["POST"]),
                Route("/a/{token}/fresh", self.fresh, methods=["POST"])]

    async def _grant(self, request: Request) -> tuple[Grant, Contact] | Refusal:
        checked = await check_grant(self.links, request.path_params["token"], self.clock.now())
        if not isinstance(checked, Refusal) and checked[0].label != sessions.ACCOUNT_LABEL:
            return Refusal("not_an_account_link", checked[0].id)
        return checked

    async def show(self, request: Request) -> Response:
        checked = await self._grant(request)
        if isinstance(checked, Refusal):
            return await self.refuse(request, checked)
        grant, contact = checked
        visit = await self.guard.visit(request)
        if visit is not None and visit.contact.id == contact.id:
            return RedirectResponse("/account/", 303)  # this browser is signed in already
        form = self.forms.sign(grant.id)
        if await AccountSession.exists(grant_id=grant.id):
            return plain_page("open.html", used=True, form=form, path=request.url.path)
        return plain_page("open.html", used=False, form=form, path=request.url.path)

    async def _form_ok(self, request: Request, grant: Grant) -> bool:
        sent = (await request.form()).get("csrf")
        expected = self.forms.unsign(sent) if isinstance(sent, str) else None
        return expected is not None and hmac.compare_digest(expected, grant.id)

    async def open(self, request: Request) -> Response:
        checked = await self._grant(request)
        if isinstance(checked, Refusal):
            return await self.refuse(request, checked)
        grant, contact = checked
        if not await self._form_ok(request, grant):
            return plain_page("message.html", 403, title=strings.FORBIDDEN,
                              text=strings.FORBIDDEN)
        started = await sessions.start(grant, contact, self.clock.now(), client_ip(request),
                                       request.headers.get("user-agent", ""))
        if started is None:
            return plain_page("open.html", used=True, form=self.forms.sign(grant.id),
                              path=request.url.path)
        response = RedirectResponse("/account/", 303)
        self.guard.set_cookie(response, started[1])
        return response

    async def fresh(self, request: Request) -> Response:
        checked = await check_grant(self.links, request.path_params["token"],
                                    self.clock.now())
        if isinstance(checked, Refusal):
            return await self.refuse(request, checked)
        grant, contact = checked
        if not await self._form_ok(request, grant):
            return plain_page("message.html", 403, title=strings.FORBIDDEN,
                              text=strings.FORBIDDEN)
        # Once per used link: asking again sends nothing more.
        await self.send_fresh_link(contact, f"account-fresh:{grant.id}")
        return plain_page("message.html", title=strings.SENT_TITLE, text=strings.SENT_INTRO)

    async def refuse(self, request: Request, why: Refusal) -> Response:
        await self.refusals.record(account_id=why.account_id, contact_id=why.contact_id,
                                   ip=client_ip(request), reason=why.reason,
                                   grant=why.grant_id)
        return plain_page("message.html", REFUSED_STATUS, title=strings.LINK_GONE,
                          text=strings.LINK_GONE_TEXT)
