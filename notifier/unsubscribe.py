"""One-click unsubscribe (RFC 8058) for alert emails: /u/{token}.

The token is an itsdangerous signature over the contact's id with its own salt, so a
download token never unsubscribes and an unsubscribe token never downloads. GET shows a
page with a button (mail scanners follow links with GET: that must not unsubscribe);
POST, from the button or from a mail client's one-click (body
"List-Unsubscribe=One-Click"), stops the contact's alerts. "resume alerts" starts them
again. Tokens do not expire: an unsubscribe link must work in an old email too.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import time

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from notifier import preferences
from vault.clock import Clock
from vault.i18n import catalogue
from vault.links import LinkSigner
from vault.models import Contact
from vault.pages import browser_language, language_for
from vault.web import PAGE_HEADERS, REFUSED_STATUS

UNSUBSCRIBE_SALT = "invoicebot.unsubscribe"
PREFIX = "/u/"

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto;
padding: 0 1rem; line-height: 1.5 }}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def unsubscribe_signer(keys: tuple[str, ...]) -> LinkSigner:
    return LinkSigner(keys, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(public_url: str, signer: LinkSigner, contact_id: int) -> str:
    return f"{public_url.rstrip('/')}{PREFIX}{signer.sign(f'contact:{contact_id}')}"


async def contact_of(signer: LinkSigner, token: str) -> Contact | None:
    value = signer.unsign(token) or ""
    kind, _, number = value.partition(":")
    if kind != "contact" or not number.isdigit():
        return None
    return await Contact.get_or_none(id=int(number))


class Unsubscribe:
    def __init__(self, signer: LinkSigner, quiet_default: tuple[time, time] | None,
                 sender: str, clock: Clock) -> None:
        self.signer = signer
        self.quiet_default = quiet_default
        self.sender = sender
        self.clock = clock

    def routes(self) -> Sequence[BaseRoute]:
        return [Route(PREFIX + "{token}", self.confirm, methods=["GET"]),
                Route(PREFIX + "{token}", self.unsubscribe, methods=["POST"])]

    async def confirm(self, request: Request) -> Response:
        contact = await contact_of(self.signer, request.path_params["token"])
        if contact is None:
            return self._invalid(request)
        language = await language_for(contact.id)
        _ = catalogue(language, "pages").gettext
        title = _("Stop invoice alerts")
        form = ('<form method="post"><input type="hidden" name="List-Unsubscribe" '
                f'value="One-Click"><button type="submit">{html.escape(title)}</button></form>')
        question = _("Stop all invoice alerts to %(address)s?") % {"address": contact.email}
        still = _("You can still ask for invoices at any time.")
        body = f"<p>{html.escape(question)}</p>{form}<p>{html.escape(still)}</p>"
        return page(title, body, language=language)

    async def unsubscribe(self, request: Request) -> Response:
        contact = await contact_of(self.signer, request.path_params["token"])
        if contact is None:
            return self._invalid(request)
        change = preferences.Change(stop=True)
        await preferences.apply(contact, change, self.quiet_default, via="unsubscribe_link",
                                now=self.clock.now())
        language = await language_for(contact.id)
        _ = catalogue(language, "pages").gettext
        stopped = _("%(address)s will get no more invoice alerts.") % {"address": contact.email}
        again = _('To get them again, write "resume alerts" to %(address)s.') % {
            "address": self.sender}
        body = f"<p>{html.escape(stopped)}</p><p>{html.escape(again)}</p>"
        return page(_("You are unsubscribed"), body, language=language)

    def _invalid(self, request: Request) -> Response:
        # No valid token, so no contact whose language we know: the browser's.
        language = browser_language(request.headers.get("accept-language", ""))
        _ = catalogue(language, "pages").gettext
        text = _('Write "stop alerts" to %(address)s instead, from the address that gets '
                 'the alerts.') % {"address": self.sender}
        return page(_("This unsubscribe link is not valid"), f"<p>{html.escape(text)}</p>",
                    REFUSED_STATUS, language)


def page(title: str, body: str, status: int = 200, language: str = "en") -> HTMLResponse:
    """A small page of our own (unsubscribe, chat unlink): the one layout for both;
    `body` is HTML, escaped by the caller."""
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body, lang=language),
                        status, PAGE_HEADERS)
