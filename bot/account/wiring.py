"""The account page's routes and the fresh-link mail, wired from the service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.routing import BaseRoute

from bot.account import strings
from bot.account.guard import Guard
from bot.account.opening import Opening
from bot.account.pages import Pages
from bot.account.verify import StepUpPage
from notifier import outbox
from notifier.account_link import AccountLinks
from notifier.message import Link, Outgoing, Section, mail_from
from vault import sessions
from vault.clock import Clock
from vault.config import Config
from vault.documents import DocumentStore
from vault.links import LinkSigner
from vault.models import Contact
from vault.statements import DocumentRenderer
from vault.vocabulary import Channel, OutboxKind
from vault.web import ThroughPage


def account_links(config: Config, clock: Clock) -> AccountLinks:
    signer = LinkSigner(config.secret_keys, salt=sessions.ACCOUNT_SALT)
    return AccountLinks(config.public_url, signer, config.link_ttl, clock)


@dataclass(frozen=True)
class AccountPage:
    routes: list[BaseRoute]
    through_page: ThroughPage  # download links of contacts who must step up


def account_routes(config: Config, clock: Clock, renderer: DocumentRenderer,
                   wake: Callable[[], None], store: DocumentStore) -> list[BaseRoute]:
    return account_page(config, clock, renderer, wake, store).routes


def account_page(config: Config, clock: Clock, renderer: DocumentRenderer,
                 wake: Callable[[], None], store: DocumentStore) -> AccountPage:
    keys = config.secret_keys
    guard = Guard(config, LinkSigner(keys, salt=sessions.SESSION_SALT), clock)

    async def send_code(contact: Contact, code: str, key: str) -> None:
        """A step-up code, by email to the address on file, at once."""
        message = Outgoing(
            kind=OutboxKind.NOTICE, channel=Channel.EMAIL, recipient=contact.email, key=key,
            title=strings.CODE_SUBJECT, contact_id=contact.id, mail=mail_from(config.email),
            sections=(Section(text=(strings.CODE_TEXT.format(code=code),
                                    strings.CODE_NOT_YOU)),))
        await outbox.enqueue(message, now=clock.now())
        wake()

    async def send_fresh_link(contact: Contact, key: str) -> None:
        """A fresh account link, by email to the address on file, once per `key`."""
        url = await sessions.account_link(contact, config.public_url,
                                          LinkSigner(keys, salt=sessions.ACCOUNT_SALT),
                                          config.link_ttl, clock.now())
        message = Outgoing(
            kind=OutboxKind.NOTICE, channel=Channel.EMAIL, recipient=contact.email, key=key,
            title=strings.FRESH_SUBJECT, contact_id=contact.id, mail=mail_from(config.email),
            sections=(Section(text=(strings.FRESH_TEXT,),
                              links=(Link(strings.OPEN_ACCOUNT, url),)),))
        await outbox.enqueue(message, now=clock.now())
        wake()

    opening = Opening(LinkSigner(keys, salt=sessions.ACCOUNT_SALT),
                      LinkSigner(keys, salt=sessions.OPEN_SALT), guard, clock, send_fresh_link,
                      LinkSigner(keys))
    verify = StepUpPage(guard, keys[-1], send_code)
    return AccountPage([*opening.routes(), *verify.routes(),
                        *Pages(config, guard, renderer, store).routes()], opening.through_page)
