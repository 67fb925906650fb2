"""The account pages and downloads under /account/. Every read goes through the visit's
AccountScope; an invoice of another account is the same 404 as one that does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.account import listing, strings
from bot.account.guard import COOKIE, HEADERS, Guard, Visit, plain_page
from bot.intents import Aging, Dispute, Preferences, Statement
from bot.registry import entry_for
from notifier import preferences
from vault import aging, amounts, render_queue, sessions
from vault.archive_index import archive_index
from vault.config import Config
from vault.disputes import open_dispute
from vault.documents import DocumentStore
from vault.history import status_history
from vault.models import Document, Invoice, InvoiceStatus
from vault.statements import DocumentRenderer, build_statement, issue_statement
from vault.vocabulary import AlertEvent, Cadence, Channel
from vault.web_files import pdf_response, zip_response

CSS = files("vault").joinpath("templates/account/account.css").read_text("utf-8")


def may(visit: Visit, command: type) -> bool:
    """What a role may not ask the bot, it does not see on the page (bot.registry)."""
    return entry_for(command).allows(visit.role)


class Pages:
    def __init__(self, config: Config, guard: Guard, renderer: DocumentRenderer,
                 store: DocumentStore) -> None:
        self.config = config
        self.guard = guard
        self.store = store
        self.renderer = renderer

    def routes(self) -> list[BaseRoute]:
        g = self.guard
        return [
            Route("/account/account.css", stylesheet, methods=["GET"]),
            Route("/account/", g(self.home, "viewed"), methods=["GET"]),
            Route("/account/invoices", g(self.invoices, "viewed"), methods=["GET"]),
            Route("/account/invoices/zip", g(self.zip, "downloaded"), methods=["POST"]),
            Route("/account/invoices/{id:int}", g(self.detail, "viewed"), methods=["GET"]),
            Route("/account/invoices/{id:int}/pdf", g(self.pdf, "downloaded"), methods=["GET"]),
            Route("/account/invoices/{id:int}/receipts/{payment:int}",
                  g(self.receipt, "downloaded"), methods=["GET"]),
            Route("/account/invoices/{id:int}/dispute", g(self.dispute, "disputed"),
                  methods=["POST"]),
            Route("/account/statement", g(self.statement_form, "viewed"), methods=["GET"]),
            Route("/account/statement", g(self.statement, "downloaded"), methods=["POST"]),
            Route("/account/preferences", g(self.preferences, "viewed"), methods=["GET"]),
            Route("/account/preferences", g(self.save_preferences, "preferences"),
                  methods=["POST"]),
            Route("/account/signout", g(self.signout, "signed_out"), methods=["POST"]),
        ]

    async def home(self, visit: Visit) -> Response:
        owed = await aging.owed_now(visit.scope, visit.today)
        rows = aging.age(owed, visit.today) if may(visit, Aging) else []
        return visit.page("home.html", balances=aging.balances(owed), aging=rows,
                          buckets=aging.BUCKETS)

    async def invoices(self, visit: Visit) -> Response:
        filters = listing.read(visit.request.query_params, visit.today)
        found = await listing.matching(visit.scope, filters)
        shown, pages = listing.page_of(found, filters.page)
        return visit.page("invoices.html", filters=filters, invoices=shown, count=len(found),
                          pages=pages, page=min(filters.page, pages),
                          entities=await visit.scope.entity_names(),
                          statuses=[s.value for s in InvoiceStatus])

    async def _invoice(self, visit: Visit) -> Invoice | None:
        return await visit.scope.invoices().get_or_none(id=visit.request.path_params["id"])

    async def detail(self, visit: Visit, notice: str = "", status: int = 200) -> Response:
        invoice = await self._invoice(visit)
        if invoice is None:
            return not_found(visit)
        payments = await visit.scope.payments(invoice)
        return visit.page(
            "detail.html", status, invoice=invoice, lines=await visit.scope.lines(invoice),
            payments=payments, receipts=await visit.scope.receipts(payments),
            due=amounts.of(invoice, visit.today).due,
            history=await status_history(visit.scope, invoice, visit.today),
            may_dispute=may(visit, Dispute), notice=notice)

    async def _refused(self, visit: Visit) -> Response | None:
        """Why no document may leave now (vault.sessions.may_fetch_documents): step-up
        asks for a code first; anything else is the 404 of a missing document."""
        gate = await sessions.may_fetch_documents(visit.session, visit.contact,
                                                  self.guard.clock.now(), visit.step_up)
        if gate.allowed:
            return None
        return self.guard.ask_for_code(visit) if gate.needs == "step_up" else not_found(visit)

    async def _document(self, visit: Visit, document_id: int | None) -> Document | None:
        found = await visit.scope.documents([document_id]) if document_id else []
        return found[0] if found else None

    async def pdf(self, visit: Visit) -> Response:
        invoice = await self._invoice(visit)
        if invoice is None:
            return not_found(visit)
        if (refused := await self._refused(visit)) is not None:
            return refused
        # History the render queue has not reached yet (vault.render_queue): render it now.
        await render_queue.ensure_pdfs([invoice], self.renderer, self.store,
                                       self.config.seller, clock=self.guard.clock)
        document = await self._document(visit, invoice.document_id)
        if document is None:
            return not_found(visit)
        await self.guard.downloaded(visit, [document])
        return await pdf_response(self.store, document, invoice.number, visit.request.method)

    async def receipt(self, visit: Visit) -> Response:
        invoice = await self._invoice(visit)
        payments = await visit.scope.payments(invoice) if invoice else []
        wanted = [p for p in payments if p.id == visit.request.path_params["payment"]]
        receipts = await visit.scope.receipts(wanted)
        document = await self._document(visit, receipts[wanted[0].id].id if receipts else None)
        if invoice is None or document is None:
            return not_found(visit)
        if (refused := await self._refused(visit)) is not None:
            return refused
        await self.guard.downloaded(visit, [document])
        return await pdf_response(self.store, document, f"receipt-{invoice.number}",
                                  visit.request.method)

    async def zip(self, visit: Visit) -> Response:
        form = await visit.request.form()
        filters = listing.read(form, visit.today)
        found = await listing.matching(visit.scope, filters)
        if form.get("which") == "selected":
            chosen = {str(v) for v in form.getlist("id")}
            found = [i for i in found if str(i.id) in chosen]
        if (refused := await self._refused(visit)) is not None:
            return refused
        await render_queue.ensure_pdfs(found, self.renderer, self.store, self.config.seller,
                                       clock=self.guard.clock)  # history not rendered yet
        ids = [i.document_id for i in found if i.document_id]
        documents = await visit.scope.documents(ids) if ids else []
        if not documents:
            return await self.invoices(visit)
        await self.guard.downloaded(visit, documents)
        names, index = await archive_index(visit.contact, documents)
        return zip_response(self.store, documents, names, "invoices.zip", index)

    async def statement_form(self, visit: Visit, problem: str = "") -> Response:
        if not may(visit, Statement):
            return not_found(visit)
        start = visit.today.replace(day=1)
        return visit.page("statement.html", 400 if problem else 200, problem=problem,
                          start=start, end=visit.today)

    async def statement(self, visit: Visit) -> Response:
        if not may(visit, Statement):
            return not_found(visit)
        form = await visit.request.form()
        try:
            start, end = (date.fromisoformat(str(form.get(k, ""))) for k in ("start", "end"))
        except ValueError:
            return await self.statement_form(visit, strings.BAD_PERIOD)
        if start > end:
            return await self.statement_form(visit, strings.BAD_PERIOD)
        if (refused := await self._refused(visit)) is not None:
            return refused
        snapshot = await build_statement(visit.scope, start, end, visit.today,
                                         self.config.seller, visit.language)
        document = await issue_statement(visit.scope, snapshot, self.renderer, self.store,
                                         self.guard.clock.now())
        await self.guard.downloaded(visit, [document])
        return await pdf_response(self.store, document, snapshot.label, visit.request.method)

    async def dispute(self, visit: Visit) -> Response:
        invoice = await self._invoice(visit)
        if invoice is None or not may(visit, Dispute):
            return not_found(visit)
        reason = str((await visit.request.form()).get("reason", "")).strip()[:1000]
        outcome = await open_dispute(visit.scope, invoice, reason, self.guard.clock.now())
        notice = strings.DISPUTE_REFUSED.get(outcome.refused, strings.DISPUTE_DONE)
        return await self.detail(visit, notice)

    async def preferences(self, visit: Visit, notice: str = "",
                          not_linked: Sequence[str] = ()) -> Response:
        if not may(visit, Preferences):
            return not_found(visit)
        settings = await preferences.settings_for(visit.contact,
                                                  self.config.alerts.default_quiet_hours)
        return visit.page("preferences.html", settings=settings, notice=notice,
                          not_linked=not_linked, channels=_channels(),
                          cadences=list(Cadence), events=list(AlertEvent),
                          linked=await preferences.linked_channels(visit.contact))

    async def save_preferences(self, visit: Visit) -> Response:
        if not may(visit, Preferences):
            return not_found(visit)
        form = await visit.request.form()
        change = preferences.Change(
            channels=tuple(Channel(c) for c in form.getlist("channel")
                           if c in {ch.value for ch in _channels()}),
            cadence=Cadence(str(form.get("cadence"))) if form.get("cadence") in
            {c.value for c in Cadence} else None,
            events=tuple(AlertEvent(e) for e in form.getlist("event")
                         if e in {ev.value for ev in AlertEvent}),
            stop=form.get("stopped") == "yes", resume=form.get("stopped") != "yes")
        applied = await preferences.apply(visit.contact, change,
                                          self.config.alerts.default_quiet_hours,
                                          via="account_page", now=self.guard.clock.now())
        return await self.preferences(visit, strings.PREFERENCES_SAVED,
                                      [str(c) for c in applied.not_linked])

    async def signout(self, visit: Visit) -> Response:
        await sessions.end(visit.session, self.guard.clock.now(), "signed_out")
        response = plain_page("message.html", language=visit.language,
                              title=strings.SIGNED_OUT, text=strings.SIGNED_OUT)
        response.delete_cookie(COOKIE, path="/", secure=self.guard.secure,
                               httponly=True, samesite="lax")
        return response


async def stylesheet(request: Request) -> Response:
    headers = {k: v for k, v in HEADERS.items() if k != "Cache-Control"}
    return Response(CSS, media_type="text/css", headers={**headers,
                                                         "Cache-Control": "max-age=3600"})


def not_found(visit: Visit) -> Response:
    return plain_page("message.html", 404, visit.language, title=strings.NOT_FOUND,
                      text=strings.NOT_FOUND)


def _channels() -> list[Channel]:
    return [Channel.EMAIL, Channel.SLACK, Channel.TELEGRAM]
