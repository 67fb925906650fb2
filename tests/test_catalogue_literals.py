"""Every word a reader sees on a page or a document goes through a catalogue, and the
documents and pages catalogues are complete in every language.

The templates are scanned for bare English: what is left of a template once its
placeholders are taken out (Jinja2's `{{ }}` / `{% %}` / `{# #}`, string.Template's
`$name`), its tags, comments and style rules, must hold no word; nor may a stylesheet's
`content:` string (CSS text is not in the HTML: vault.words writes the page footer per
language). Then the catalogues: freshly extracted, they hold what the committed .pot
holds (nobody added a string without `make catalogues`), and each language's .po
translates every entry, none fuzzy.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from vault.i18n import LANGUAGES as ALL_LANGUAGES
from vault.i18n import SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "vault" / "templates"
LOCALE = ROOT / "vault" / "locale"
DOMAINS = ("documents", "pages")
LANGUAGES = tuple(lang for lang in ALL_LANGUAGES if lang != SOURCE_LANGUAGE)  # translated

# Words a template may print as they are, and why.
ALLOWED: set[str] = set()  # none yet: a word that must stay English is named here
ATTRIBUTES = {"title", "alt", "aria-label", "placeholder", "data-label", "content"}
BUTTONS = {"submit", "button", "reset"}  # an <input> of these shows its value
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
TEMPLATE_VALUE = re.compile(r"\$(?:\$|\w+|\{\w+\})")
WORD = re.compile(r"[^\W\d_]{2,}")


class Visible(HTMLParser):
    """The text and the reader-facing attribute values of an HTML page, without its
    <style> and <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._hidden += 1
        named = dict(attrs)
        if tag == "meta" and named.get("name") not in ("description", "keywords"):
            return  # charset, viewport, robots, generator: for machines
        shown = ATTRIBUTES | ({"value"} if tag == "input" and named.get("type") in BUTTONS
                              else set())
        self.found += [v for k, v in attrs if k in shown and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.found.append(data)


def bare_words(source: str) -> list[str]:
    """The words left in a template once its placeholders are gone."""
    parser = Visible()
    parser.feed(TEMPLATE_VALUE.sub(" ", JINJA.sub(" ", source)))
    return [w for text in parser.found for w in WORD.findall(text) if w not in ALLOWED]


def css_words(source: str) -> list[str]:
    without_comments = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    strings = re.findall(r"content:\s*([^;}]*)", without_comments)
    quoted = [q for value in strings for q in re.findall(r'"([^"]*)"|\'([^\']*)\'', value)]
    return [w for pair in quoted for text in pair for w in WORD.findall(text)]


TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))
STYLESHEETS = sorted(TEMPLATES.rglob("*.css"))


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_hold_no_bare_words(path: Path) -> None:
    assert bare_words(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_stylesheets_print_no_words(path: Path) -> None:
    assert css_words(path.read_text(encoding="utf-8")) == []


def test_the_scan_finds_what_it_should() -> None:
    """The check itself: bare words are found, placeholders and markup are not."""
    assert bare_words('<p title="Due">{{ _("Due") }} $number Amount <b>{% if x %}x{% endif %}'
                      '</b></p><style>p { color: red }</style>') == ["Due", "Amount"]
    assert css_words('p::after { content: "Page " counter(page); } /* content: "x" */') == \
        ["Page"]


def ids(path: Path) -> set[tuple[str | None, str]]:
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue if m.id}


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_committed_template_holds_every_string_of_the_code(
        domain: str, tmp_path: Path) -> None:
    fresh = tmp_path / f"{domain}.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "--quiet", "extract",
         "-F", str(LOCALE / f"{domain}.cfg"), "-k", "_", "-k", "N_", "-k", "ngettext:1,2",
         "-k", "pgettext:1c,2", "-o", str(fresh), "."], cwd=ROOT, check=True)
    assert ids(fresh) == ids(LOCALE / f"{domain}.pot"), "run make catalogues"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_string_is_translated_and_none_is_fuzzy(domain: str, language: str) -> None:
    path = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    assert not catalogue.fuzzy
    gaps = [m.id for m in catalogue if m.id and (
        m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert gaps == []
    assert ids(path) == ids(LOCALE / f"{domain}.pot")
    forms = len(Locale.parse(language).plural_form.tags) + 1  # CLDR's, "other" included
    assert catalogue.num_plurals == forms
    for message in catalogue:
        if isinstance(message.id, tuple):
            assert len(message.string) == forms, message.id
