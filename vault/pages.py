"""Web pages in their reader's language: the account page, the refusal page of a download
link, the unsubscribe pages. Their words are the `pages` catalogue (vault.i18n).

The reader is the contact when we know who it is: the contact's `locale`, else their
account's, else English. A page for nobody in particular (a link that names no contact)
is English.

Each language has its own Jinja2 environment with jinja2.ext.i18n and that language's
catalogue installed (`install_gettext_callables`, new style: `_("Hello %(name)s",
name=...)` escapes the values). An environment per language, built once, rather than one
environment whose callables are swapped per request: nothing can render a page in the
language of the request before it.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from jinja2 import Environment, FileSystemLoader, select_autoescape

from vault.answer_language import answer_language, supported
from vault.i18n import SOURCE_LANGUAGE, catalogue, language_of
from vault.models import Account, Contact

DOMAIN = "pages"


@cache
def environment(folder: str, language: str) -> Environment:
    """Templates of vault/templates/`folder` ("" for the top) in `language`; `lang`
    is a global, for `<html lang>`."""
    words = catalogue(language, DOMAIN)
    env = Environment(
        loader=FileSystemLoader(str(files("vault").joinpath("templates", folder))),
        autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        words.gettext, words.ngettext, newstyle=True, pgettext=words.pgettext)
    env.globals["lang"] = words.language
    return env


def contact_language(contact: Contact, account: Account | None) -> str:
    """A page's language: the contact's answer language (vault.answer_language: the one
    they asked for, else their locale's, else their account's, else English)."""
    return answer_language(contact, account)


def browser_language(accept_language: str) -> str:
    """For a page whose reader we do not know (a junk link): the first language of the
    browser's Accept-Language, by its q-values, that we write; else English."""
    ranked = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, weight = part.strip().partition(";q=")
        try:
            q = float(weight) if weight else 1.0
        except ValueError:
            q = 0.0
        ranked.append((-q, position, tag.strip()))
    for q, _, tag in sorted(ranked):
        if q < 0 and (language := supported(tag)) is not None:
            return language
    return SOURCE_LANGUAGE


async def language_for(contact_id: int | None, account_id: int | None = None,
                       accept_language: str = "") -> str:
    """The language of a page for a contact known only by id (a refused link's); with
    neither contact nor account, the browser's."""
    contact = await Contact.get_or_none(id=contact_id) if contact_id else None
    account_id = contact.account_id if contact else account_id
    account = await Account.get_or_none(id=account_id) if account_id else None
    if contact is None:
        if account is None:
            return browser_language(accept_language)
        return language_of(account.locale)
    return contact_language(contact, account)
