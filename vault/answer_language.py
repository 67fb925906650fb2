"""The language a contact is answered in: the one rule replies, alerts and digests share.

1. the language the contact asked for ("answer in German": Contact.answer_language);
2. else the contact's own `locale` from the data, when set to a language we write;
3. else the language the request was written in (bot.language.detect; alerts and
   digests answer no request, so they skip this step);
4. else the account's `locale`;
5. else English.

Dates and amounts keep following the locale (contact, else account): the language says
the words, the locale says how a number looks where the reader works.
"""

from __future__ import annotations

from vault.i18n import LANGUAGES, SOURCE_LANGUAGE
from vault.models import Account, Contact


def supported(tag: str | None) -> str | None:
    """The catalogue language of a locale tag ("de_DE" -> "de"), or None when the tag is
    empty or names a language we do not write (that step of the rule is then skipped)."""
    language = (tag or "").replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else None


def answer_language(contact: Contact, account: Account | None, written: str | None = None
                    ) -> str:
    for choice in (contact.answer_language, contact.locale, written,
                   account.locale if account else None):
        if (language := supported(choice)) is not None:
            return language
    return SOURCE_LANGUAGE
