"""/a/{token}: the "Open your account" link.

A GET or HEAD only shows a page with a button: link scanners and previews fetch links,
and must neither start a session nor use the link up. The button POSTs (with a token
signed for this grant) and starts the session. A link starts one session: a second
POST (another browser) is offered a fresh link, mailed to the address on file.

A download link (/d/{token}) of a contact who must step up (vault.stepup) opens the same
way (`through_page`, then POST /d/{token}/open) and lands on the invoice on the account
page, where the code is asked for before the PDF leaves.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.account import strings
from bot.account.guard import Guard, forbidden, plain_page
from vault import audit, sessions
from vault.clock import Clock
from vault.invoices import AccountScope
from vault.links import LinkSigner, Refusal, check_grant
from vault.models import AccountSession, Contact, Document, Grant
from vault.pages import language_for
from vault.web import REFUSED_STATUS, client_ip

SendFreshLink = Callable[[Contact, str], Awaitable[None]]  # (contact, outbox key)


class Opening:
    def __init__(self, link_signer: LinkSigner, form_signer: LinkSigner, guard: Guard,
                 clock: Clock, send_fresh_link: SendFreshLink,
                 download_signer: LinkSigner) -> None:
        self.links = link_signer
        self.downloads = download_signer
        self.forms = form_signer
        self.guard = guard
        self.clock = clock
        self.send_fresh_link = send_fresh_link
        # Refusals are what anonymous traffic causes: one row per IP per minute.
        self.refusals = audit.SampledAudit("vault.account.link_refused")

    def routes(self) -> list[BaseRoute]:
        return [Route("/a/{token}", self.show, methods=["GET"]),  # Starlette adds HEAD
                Route("/a/{token}", self.open, methods=["POST"]),
                Route("/a/{token}/fresh", self.fresh, methods=["POST"]),
                Route("/d/{token}/open", self.open_document, methods=["POST"])]

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
        used = await AccountSession.exists(grant_id=grant.id)
        return plain_page("open.html", language=await language_for(contact.id), used=used,
                          form=form, path=request.url.path)

    async def _form_ok(self, request: Request, grant: Grant) -> bool:
        sent = (await request.form()).get("csrf")
        expected = self.forms.unsign(sent) if isinstance(sent, str) else None
        return expected is not None and hmac.compare_digest(expected, grant.id)

    async def open(self, request: Request) -> Response:
        checked = await self._grant(request)
        if isinstance(checked, Refusal):
            return await self.refuse(request, checked)
        grant, contact = checked
        language = await language_for(contact.id)
        if not await self._form_ok(request, grant):
            return forbidden(language)
        started = await sessions.start(grant, contact, self.clock.now(), client_ip(request),
                                       request.headers.get("user-agent", ""))
        if started is None:
            return plain_page("open.html", language=language, used=True,
                              form=self.forms.sign(grant.id), path=request.url.path)
        response = RedirectResponse("/account/", 303)
        self.guard.set_cookie(response, started[1])
        return response

    async def fresh(self, request: Request) -> Response:
        checked = await check_grant(self.links, request.path_params["token"],
                                    self.clock.now())
        if isinstance(checked, Refusal):
            return await self.refuse(request, checked)
        grant, contact = checked
        language = await language_for(contact.id)
        if not await self._form_ok(request, grant):
            return forbidden(language)
        # Once per used link: asking again sends nothing more.
        await self.send_fresh_link(contact, f"account-fresh:{grant.id}")
        return plain_page("message.html", language=language, title=strings.SENT_TITLE,
                          text=strings.SENT_INTRO)

    # ---- download links that go through the page (step-up) -----------------------------

    async def through_page(self, request: Request, grant: Grant, contact: Contact,
                           documents: list[Document]) -> Response:
        """GET /d/{token} for a contact who must step up: the invoice on the account page
        (at once when this browser is signed in as them), never the file."""
        visit = await self.guard.visit(request)
        if visit is not None and visit.contact.id == contact.id:
            return RedirectResponse(await _target(contact, documents), 303)
        used = await AccountSession.exists(grant_id=grant.id)
        return plain_page("open.html", language=await language_for(contact.id), used=used,
                          form=self.forms.sign(grant.id),
                          path=request.url.path, action=f"{request.url.path}/open",
                          document=True)

    async def open_document(self, request: Request) -> Response:
        checked = await check_grant(self.downloads, request.path_params["token"],
                                    self.clock.now())
        if isinstance(checked, Refusal) or checked[0].label == sessions.ACCOUNT_LABEL:
            return await self.refuse(request, checked if isinstance(checked, Refusal)
                                     else Refusal("not_a_download_link", checked[0].id))
        grant, contact = checked
        language = await language_for(contact.id)
        if not await self._form_ok(request, grant):
            return forbidden(language)
        started = await sessions.start(grant, contact, self.clock.now(), client_ip(request),
                                       request.headers.get("user-agent", ""),
                                       document_link=True)
        if started is None:
            return plain_page("open.html", language=language, used=True, document=True,
                              form="", path="")
        documents = await AccountScope.for_contact(contact)
        owned = await documents.documents(list(grant.document_ids))
        response = RedirectResponse(await _target(contact, owned), 303)
        self.guard.set_cookie(response, started[1])
        return response

    async def refuse(self, request: Request, why: Refusal) -> Response:
        await self.refusals.record(account_id=why.account_id, contact_id=why.contact_id,
                                   ip=client_ip(request), reason=why.reason,
                                   grant=why.grant_id)
        return plain_page("message.html", REFUSED_STATUS,
                          await language_for(why.contact_id, why.account_id),
                          title=strings.LINK_GONE, text=strings.LINK_GONE_TEXT)


async def _target(contact: Contact, documents: list[Document]) -> str:
    """The invoice whose PDF the link named, else the invoice list."""
    scope = await AccountScope.for_contact(contact)
    ids = [d.id for d in documents]
    invoices = await scope.invoices().filter(document_id__in=ids).limit(2) if ids else []
    return f"/account/invoices/{invoices[0].id}" if len(invoices) == 1 else "/account/invoices"
