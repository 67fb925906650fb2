"""The words printed on a document (invoice, credit note, receipt, statement), in the
language of its reader: the buyer account's locale (vault.pdf.babel_locale), from the
`documents` catalogue (vault.i18n).

With `[seller] documents_also_english` every label carries its English beside it
("Rechnung / Invoice") and every sentence is followed by its English, for buyers whose
auditors or group accounting read English. An English document is never doubled.

The English text is the key, so `make catalogues` extracts the calls of `Words._` and
`Words.ngettext` wherever documents are built, and `N_` marks words chosen at run time
(a statement line's kind) where they are chosen. Values are %-formatted after
translation, so a translator may move them: "Seite %(page)s von %(pages)s".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from html import escape
from typing import Any

from vault.i18n import SOURCE_LANGUAGE, Catalogue, catalogue, language_of

DOMAIN = "documents"
# Around a label's English, until `labels_html` makes it a <span class="also-en">: the
# stylesheet puts it beside the label, or under it in narrow table headers.
_EN, _END = "\x1e", "\x1f"
_PAGE, _PAGES = "\x00page\x00", "\x00pages\x00"


def N_(message: str) -> str:
    """Marks a word for the catalogue where it is chosen, translated where it is printed."""
    return message


@dataclass(frozen=True)
class Words:
    """A document's catalogue, and English beside it when the seller asks for both."""

    language: str
    also_english: bool = False
    joiner: str = _EN  # before a label's English; sentences: "\n", plain text: " / "

    @classmethod
    def of(cls, locale: str, also_english: bool = False) -> Words:
        return cls(language_of(locale), also_english)

    @property
    def bilingual(self) -> bool:
        return self.also_english and self.language != SOURCE_LANGUAGE

    @property
    def sentences(self) -> Words:
        """The same words, a sentence per line: `paragraphs` prints each line as a <p>."""
        return replace(self, joiner="\n")

    @property
    def plain(self) -> Words:
        """Labels as plain text, "Rechnung / Invoice" (CSS content)."""
        return replace(self, joiner=" / ")

    @property
    def alone(self) -> Words:
        """In the document's language only: its title and metadata (they follow
        `<html lang>`)."""
        return replace(self, also_english=False)

    @property
    def _catalogue(self) -> Catalogue:
        return catalogue(self.language, DOMAIN)

    def _(self, message: str, **values: Any) -> str:
        """A label or phrase as plain text: "Rechnung", or "Rechnung / Invoice"."""
        return self._both(_fill(self._catalogue.gettext(message), values),
                          _fill(message, values))

    def pgettext(self, context: str, message: str, **values: Any) -> str:
        """A label whose English serves several documents ("Issue date") but whose
        translation depends on which ("Rechnungsdatum", "Datum der Gutschrift")."""
        return self._both(_fill(self._catalogue.pgettext(context, message), values),
                          _fill(message, values))

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """A phrase with a count, in the language's plural forms (CLDR, from the .po);
        the count is `%(n)s`."""
        values = {"n": n, **values}
        return self._both(self._catalogue.ngettext(singular, plural, n) % values,
                          (singular if n == 1 else plural) % values)

    def _both(self, own: str, english: str) -> str:
        if not self.bilingual or own == english:
            return own
        return f"{own}{_EN}{english}{_END}" if self.joiner == _EN else \
            f"{own}{self.joiner}{english}"

    def page_footer_css(self) -> str:
        """The running "Page 1 of 2" as a CSS rule in this language: CSS `content:` text
        is not in the HTML, so each document carries its own rule."""
        text = self.plain._("Page %(page)s of %(pages)s", page=_PAGE, pages=_PAGES)
        parts = re.split(f"({_PAGE}|{_PAGES})", text)
        tokens = [{_PAGE: "counter(page)", _PAGES: "counter(pages)"}.get(p, _css_string(p))
                  for p in parts if p]
        return f"@page {{ @bottom-right {{ content: {' '.join(tokens)}; }} }}"


def _fill(text: str, values: dict[str, Any]) -> str:
    return text % values if values else text


def labels_html(html: str) -> str:
    """A filled document with each label's English (escaped with it) in its span."""
    return html.replace(_EN, '<span class="also-en">').replace(_END, "</span>")


def paragraphs(text: str, css_class: str = "") -> str:
    """Sentences from `Words.sentences` as HTML paragraphs, escaped; English ones added by
    `documents_also_english` follow their own."""
    attribute = f' class="{css_class}"' if css_class else ""
    return "".join(f"<p{attribute}>{escape(line)}</p>" for line in text.split("\n"))


def _css_string(text: str) -> str:
    """A CSS string literal; the text cannot close the string or the <style> element."""
    escaped = "".join(c if c.isalnum() or c in " .,:/-" else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'
