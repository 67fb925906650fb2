"""One-click unlink from the "chat linked" email: /chat/unlink/{token}.

When a chat is linked the contact is emailed (bot.chatguard), with this link: someone who
linked a chat to their address without them is cut off in one click. The token is an
itsdangerous signature (its own salt: it never downloads or unsubscribes) over the link's
id and chat account, so it ends only that link, and it expires after UNLINK_TTL. As with
notifier.unsubscribe, GET only asks (mail scanners follow links), POST unlinks.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from notifier.unsubscribe import page
from vault import audit
from vault.i18n import catalogue
from vault.links import LinkSigner
from vault.models import ChatLink
from vault.pages import DOMAIN, contact_language
from vault.vocabulary import Channel
from vault.web import REFUSED_STATUS

UNLINK_SALT = "invoicebot.chat-unlink"
PREFIX = "/chat/unlink/"
UNLINK_TTL = timedelta(days=30)

class ChatUnlink:
    def __init__(self, keys: tuple[str, ...], public_url: str) -> None:
        self.signer = LinkSigner(keys, salt=UNLINK_SALT)
        self.public_url = public_url.rstrip("/")

    def url(self, link: ChatLink) -> str:
        value = f"{link.id}:{link.platform}:{link.team_id}:{link.user_id}"
        return f"{self.public_url}{PREFIX}{self.signer.sign(value)}"

    def routes(self) -> Sequence[BaseRoute]:
        return [Route(PREFIX + "{token}", self.confirm, methods=["GET"]),
                Route(PREFIX + "{token}", self.unlink, methods=["POST"])]

    async def _link(self, token: str) -> ChatLink | None:
        value = self.signer.unsign(token, max_age=int(UNLINK_TTL.total_seconds())) or ""
        number, _, account = value.partition(":")
        platform, _, rest = account.partition(":")
        team_id, _, user_id = rest.partition(":")
        if not number.isdigit():
            return None
        return await ChatLink.get_or_none(
            id=int(number), platform=platform, team_id=team_id, user_id=user_id
        ).select_related("contact__account")

    async def confirm(self, request: Request) -> Response:
        link = await self._link(request.path_params["token"])
        if link is None:
            return _invalid()
        language = contact_language(link.contact, link.contact.account)
        _ = catalogue(language, DOMAIN).gettext
        where = Channel(link.platform).label  # Slack, Telegram: names, not words
        question = _text(_("Unlink the %(chat)s account (user id %(user_id)s) that was "
                           "linked to %(address)s? It will no longer get your invoices.")) % {
            "chat": where, "user_id": html.escape(link.user_id),
            "address": html.escape(link.contact.email)}
        button = _text(_("Unlink it"))
        body = (f"<p>{question}</p><form method=\"post\"><button type=\"submit\">"
                f"{button}</button></form>")
        return page(_("Unlink %(chat)s") % {"chat": where}, body, language=language)

    async def unlink(self, request: Request) -> Response:
        link = await self._link(request.path_params["token"])
        if link is None or not await ChatLink.filter(id=link.id).delete():
            return _invalid()
        await audit.record("bot.chat.link.unlinked", account_id=link.contact.account_id,
                           contact_id=link.contact_id, via="email_link", platform=link.platform,
                           team_id=link.team_id, user_id=link.user_id)
        language = contact_language(link.contact, link.contact.account)
        _ = catalogue(language, DOMAIN).gettext
        where = Channel(link.platform).label
        done = _text(_("The %(chat)s account no longer gets invoices for %(address)s.")) % {
            "chat": where, "address": html.escape(link.contact.email)}
        tell = _("If you did not link it yourself, please tell your contact at our accounts "
                 "receivable team.")
        body = f"<p>{done}</p><p>{_text(tell)}</p>"
        return page(_("%(chat)s unlinked") % {"chat": where}, body, language=language)


def _invalid() -> Response:
    # No valid token, so no contact whose language we know: English, from the catalogue.
    _ = catalogue("en", DOMAIN).gettext
    why = _('It has expired, or the chat is no longer linked. To unlink a chat yourself, '
            'write "unlink" in it.')
    return page(_("This unlink link is not valid"), f"<p>{_text(why)}</p>",
                REFUSED_STATUS)


def _text(words: str) -> str:
    """A translated sentence as HTML text (its quotes and apostrophes kept as typed)."""
    return html.escape(words, quote=False)
