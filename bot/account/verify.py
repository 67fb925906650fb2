"""/account/verify: the step-up page. A 6-digit code goes to the address on file when
the contact asks for it (a POST: a GET never sends mail), and typing it lets documents
(or, with step_up = "session", every page) through for this session; "remember this
browser" keeps it for access.remember_device. Plain forms: works without JavaScript."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.account import strings
from bot.account.guard import Guard, Visit
from vault import stepup
from vault.models import Contact

SendCode = Callable[[Contact, str, str], Awaitable[None]]  # (contact, code, outbox key)


def safe_next(value: object) -> str:
    """Where to go after the code: a path of the account page, never another site."""
    text = str(value or "")
    ok = text.startswith("/account/") and not text.startswith("//") and "\\" not in text
    return text[:500] if ok else "/account/"


def masked(email: str) -> str:
    """a•••@acme.example: enough to recognise one's address, not to learn it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


class StepUpPage:
    def __init__(self, guard: Guard, secret: str, send_code: SendCode) -> None:
        self.guard = guard
        self.secret = secret  # keys the codes' HMAC
        self.send_code = send_code

    def routes(self) -> list[BaseRoute]:
        g = self.guard
        return [
            Route("/account/verify", g(self.show, "step_up", step_up_page=True),
                  methods=["GET"]),
            Route("/account/verify/send", g(self.send, "step_up", step_up_page=True),
                  methods=["POST"]),
            Route("/account/verify", g(self.check, "step_up", step_up_page=True),
                  methods=["POST"]),
        ]

    def page(self, visit: Visit, back: str, notice: str = "", status: int = 200,
             sent: bool = False) -> Response:
        days = self.guard.step_up.remember_device.days
        return visit.page("verify.html", status, back=back, notice=notice, sent=sent,
                          alert=status >= 400,
                          address=masked(visit.contact.email), remember_days=days,
                          watched=visit.step_up.watch is not None)

    async def show(self, visit: Visit) -> Response:
        back = safe_next(visit.request.query_params.get("next"))
        if visit.step_up.passed or not visit.step_up.level.rank:
            return RedirectResponse(back, 303)  # nothing to ask
        return self.page(visit, back)

    async def send(self, visit: Visit) -> Response:
        back = safe_next((await visit.request.form()).get("next"))
        made = await stepup.new_code(visit.session, visit.contact, self.secret,
                                     self.guard.clock.now())
        if made is None:
            return self.page(visit, back, strings.CODE_NOT_SENT, 429)
        row, code = made
        await self.send_code(visit.contact, code, f"step-up-code:{row.id}")
        return self.page(visit, back, strings.CODE_SENT, sent=True)

    async def check(self, visit: Visit) -> Response:
        form = await visit.request.form()
        back = safe_next(form.get("next"))
        code = "".join(str(form.get("code", "")).split())[:20]
        if not await stepup.enter_code(visit.session, visit.contact, code, self.secret,
                                       self.guard.clock.now(), self.guard.step_up):
            return self.page(visit, back, strings.CODE_WRONG, 400, sent=True)
        response = RedirectResponse(back, 303)
        if form.get("remember") == "yes":
            self.guard.remember(response, visit.contact)
        return response
