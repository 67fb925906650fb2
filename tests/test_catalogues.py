"""The catalogues are complete, and the words people read go through them.

For every domain in vault/locale (messages now; pages and documents once their branches
land, with no change here): the committed DOMAIN.pot holds what the sources ask for
today, every language's .po translates every msgid of it (no empty msgstr, no fuzzy),
its placeholders are the msgid's, and its Plural-Forms header is Babel's (CLDR) rule for
that language. Then an AST scan of the reply builders and the alert and digest composers
fails on an English sentence written as a bare literal instead of through a catalogue
call.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from vault.i18n import LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE

ROOT = Path(__file__).parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2),
            "pgettext": ((1, "c"), 2)}
DOMAINS = sorted(p.stem for p in LOCALE_DIR.glob("*.pot"))
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]


def _catalogue(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def _key(message: Message) -> tuple[str | None, str]:
    ident = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, ident


def placeholders(text: str) -> set[str]:
    """{name} fields and %(name)s conversions of a message."""
    fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    return fields | set(re.findall(r"%\((\w+)\)[sdif]", text))


def test_there_is_a_messages_catalogue_and_every_domain_has_its_mapping() -> None:
    assert "messages" in DOMAINS
    for domain in DOMAINS:
        assert (LOCALE_DIR / f"{domain}.cfg").exists(), f"{domain}.pot has no {domain}.cfg"


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_committed_template_holds_what_the_sources_ask_for(domain: str) -> None:
    """`make catalogues` was run after the last change to a translated string."""
    with (LOCALE_DIR / f"{domain}.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = {(context, msgid if isinstance(msgid, str) else msgid[0])
             for _, _, msgid, _, context in extract_from_dir(
                 str(ROOT), method_map, options_map, keywords=KEYWORDS)}
    committed = {_key(m) for m in _messages(_catalogue(LOCALE_DIR / f"{domain}.pot"))}
    assert found - committed == set(), "new strings: run `make catalogues` and translate"
    assert committed - found == set(), "strings no longer used: run `make catalogues`"


@pytest.mark.parametrize(("domain", "language"),
                         [(d, lang) for d in DOMAINS for lang in TRANSLATED])
def test_every_catalogue_translates_every_message(domain: str, language: str) -> None:
    template = {_key(m) for m in _messages(_catalogue(LOCALE_DIR / f"{domain}.pot"))}
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    assert po.exists(), f"no {domain} catalogue for {language}: run `make catalogues`"
    catalog = _catalogue(po, language)
    messages = {_key(m): m for m in _messages(catalog)}
    assert template - messages.keys() == set(), "missing: run `make catalogues`"
    for key, message in messages.items():
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms), f"{language}: untranslated {key}"
        assert not message.fuzzy, f"{language}: fuzzy {key}"
        _same_placeholders(message, forms, f"{language} {key}")


def _same_placeholders(message: Message, forms: tuple[str, ...], where: str) -> None:
    """Every form names only the msgid's placeholders; the last (general) plural form,
    and a singular message, name all of them. A singular plural form may leave out the
    count ("Ihre letzte Rechnung" for "Your last {count} invoice")."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    wanted = set().union(*(placeholders(i) for i in ids))
    for form in forms:
        assert placeholders(form) <= wanted, f"{where}: unknown placeholder in {form!r}"
    assert placeholders(forms[-1]) == placeholders(ids[-1]), f"{where}: {forms[-1]!r}"


@pytest.mark.parametrize(("domain", "language"),
                         [(d, lang) for d in DOMAINS for lang in TRANSLATED])
def test_plural_forms_are_the_languages_own(domain: str, language: str) -> None:
    catalog = _catalogue(LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po", language)
    rule = Locale.parse(language).plural_form  # its tags leave out "other"
    assert catalog.num_plurals == len(rule.tags) + 1, catalog.plural_forms
    assert catalog.plural_forms == Catalog(locale=language).plural_forms


# ---- no bare English in what people read ----------------------------------------------------

# The modules that compose what a contact or AR reads: every reply builder, the help from
# the command registry, the one outgoing message and its email, Slack and Telegram words,
# alerts, digests, AR's digest, the alert settings in words and the account link, the
# chat-linking conversation and its emails and unlink pages; the Python of the account page,
# the download and unsubscribe pages and the PDFs (templates: tests/test_catalogue_literals.py).
SCANNED = sorted([
    *(ROOT / "bot" / "answers").glob("*.py"),
    *(ROOT / "bot" / "account").glob("*.py"),
    *(ROOT / p for p in (
        "bot/replies.py", "bot/outgoing.py", "bot/registry.py", "bot/messages.py",
        "bot/channels/slack_send.py", "bot/channels/telegram_send.py",
        "bot/chatlink.py", "bot/chatguard.py", "bot/chatunlink.py", "bot/chatinbox.py",
        "notifier/compose.py", "notifier/alerts.py", "notifier/digests.py",
        "notifier/ar_digest.py", "notifier/probe.py", "notifier/email_send.py",
        "notifier/message.py", "notifier/account_link.py", "notifier/words.py",
        "notifier/unsubscribe.py", "vault/web.py", "vault/web_files.py", "vault/pages.py",
        "vault/pdf_html.py", "vault/statement_html.py", "vault/receipts.py", "vault/words.py",
    )),
])
CATALOGUE_CALLS = {"_", "N_", "gettext", "ngettext", "pgettext"}
# Calls whose text is for logs, audit rows, AR's internal notes or errors, never a reader.
TECHNICAL_CALLS = {"record", "note_for_ar", "ask_for_person", "escalate", "info", "warning",
                   "error", "exception", "debug", "DeliveryError", "ValueError",
                   "RuntimeError", "ProbeResult", "outcome", "Counter", "Histogram"}
# Reviewed literals that are not prose: keys, CSS, HTML and header values.
ALLOWED = {
    "bot/answers/escalate.py": {"(no reason given)"},  # AR's note, in AR's English
    "notifier/ar_digest.py": {"AR: "},  # the at-once subject: kind label and account
    # The font stack, and the unsubscribe mailto's subject: a command the bot reads.
    "notifier/email_send.py": {"-apple-system,'Segoe UI',Helvetica,Arial,sans-serif",
                               "stop alerts"},
    # Telegram's error texts that make a failure permanent (matched, never shown).
    "bot/channels/telegram_send.py": {"chat not found", "user not found",
                                      "message is too long"},
    # vault.history's notes, matched to translate them.
    "notifier/words.py": {"due date passed", "payment received", "dispute resolved",
                          "disputed, as our records show", "no reason given"},
    # /readyz's JSON: for the operator's monitoring, not a contact.
    "vault/web.py": {"not writable: "},
    "notifier/message.py": {"outgoing payload: unknown format",
                            "chat payload: buttons must be a list of {label, url}",
                            "chat payload: expected a JSON object with a text string"},
}
_PROSE = re.compile(r"[A-Za-z]{3,}(?:'[a-z]+)?\s+[A-Za-z]{2,}")  # two words in a row
_MARKUP = re.compile(r"[<>{};]|:\S|^\s*[\w-]+:")  # HTML, CSS, format-only or key: value
_SQL = re.compile(r"^\s*(?:SELECT|ORDER BY)\b|\bIN \('$")


def bare_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _inside_calls(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
            if _PROSE.search(text) and not _MARKUP.search(text) and not _SQL.search(text):
                found.append(text)
    return found


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return {id(n.body[0].value) for n in nodes
            if n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}


def _inside_calls(tree: ast.Module) -> set[int]:
    """Literals handed to a catalogue call (translated) or to a technical one."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in CATALOGUE_CALLS | TECHNICAL_CALLS:
            inside |= {id(n) for arg in (*node.args, *(k.value for k in node.keywords))
                       for n in ast.walk(arg)}
    return inside


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(ROOT)))
def test_what_people_read_goes_through_the_catalogue(path: Path) -> None:
    allowed = ALLOWED.get(str(path.relative_to(ROOT)), set())
    bare = [text for text in bare_literals(path) if text not in allowed]
    assert bare == [], f"wrap these in a catalogue call (or allow-list a technical one): {bare}"


def test_the_scan_finds_a_bare_sentence(tmp_path: Path) -> None:
    """The check itself: a reply written as a bare English literal is caught."""
    source = tmp_path / "answer.py"
    source.write_text('def reply(words):\n    """Doc."""\n'
                      '    ok = words.gettext("Here is your balance.")\n'
                      '    return ok, f"Your balance is {1}", "Nothing is outstanding."\n')
    assert sorted(bare_literals(source)) == ["Nothing is outstanding.", "Your balance is "]
