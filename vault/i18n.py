"""Translations: one gettext catalogue per domain and language, from vault/locale/.

Three domains, so the words of each part of the product are kept together:
- `messages`: what the bot writes in email, Slack and Telegram (replies, help, alerts,
  digests, the AR digest);
- `pages`: the account page, the refusal and unsubscribe pages;
- `documents`: invoice, credit note, receipt and statement PDFs.

The English text is the key (gettext style). The `.po` files are kept in git; the `.mo`
files are compiled at install (`make catalogues-compile`, run by `make run` and `make
test`) and not committed. When a `.mo` is missing (an install that skipped the make step)
the `.po` is compiled in memory instead, so an answer never depends on a build step.

A string with no translation falls back to English for that string only and is counted
(`invoicebot_translations_missing_total`), so a gap shows on the dashboard rather than as
a broken reply.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from prometheus_client import Counter

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")
SOURCE_LANGUAGE = "en"
DOMAINS = ("messages", "pages", "documents")

MISSING = Counter(
    "invoicebot_translations_missing", "Strings shown in English because the catalogue of "
    "the answer's language has no translation for them", ["language", "domain"])


def language_of(tag: str | None) -> str:
    """The catalogue language for a locale tag ("de_DE", "pt-BR", "FR"); English if none."""
    language = (tag or "").replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else SOURCE_LANGUAGE


class Catalogue:
    """The words of one domain in one language, falling back to English string by string."""

    def __init__(self, language: str, domain: str, translations: gettext.NullTranslations):
        self.language = language
        self.domain = domain
        self._translations = translations
        self._known: dict[object, object] = getattr(translations, "_catalog", {})

    def gettext(self, message: str) -> str:
        if message in self._known:
            return self._translations.gettext(message)
        self._missing()
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if (singular, 0) in self._known:
            return self._translations.ngettext(singular, plural, n)
        self._missing()
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        if f"{context}\x04{message}" in self._known:
            return self._translations.pgettext(context, message)
        self._missing()
        return message

    def _missing(self) -> None:
        if self.language != SOURCE_LANGUAGE:
            MISSING.labels(self.language, self.domain).inc()


@cache
def catalogue(language: str, domain: str) -> Catalogue:
    """The catalogue for a language (a tag is narrowed by `language_of`) and a domain."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown translation domain {domain!r} (known: {', '.join(DOMAINS)})")
    language = language_of(language)
    return Catalogue(language, domain, _load(language, domain))


def _load(language: str, domain: str) -> gettext.NullTranslations:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    mo, po = folder / f"{domain}.mo", folder / f"{domain}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=domain)
    if po.exists():
        # No compiled catalogue (or an older one): compile the .po in memory.
        with po.open("rb") as handle:
            compiled = io.BytesIO()
            write_mo(compiled, read_po(handle, locale=language, domain=domain))
        compiled.seek(0)
        return Translations(compiled, domain=domain)
    return gettext.NullTranslations()
