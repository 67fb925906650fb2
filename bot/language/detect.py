"""Which of the seven languages a request is written in, from its words. Pure.

The parser understands every language whatever the contact writes (people mix them); the
answer should come back in the one they wrote. Each folded word that belongs to one
language only counts for it (month names from Babel, the trade's nouns, courtesy words);
the language with most such words wins, and a tie or no such word says nothing (None):
"INV-2026-0042" or "Q1" is no language, so the account's language answers it.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from babel.dates import get_month_names

from bot.language.months import LOCALES
from bot.language.text import fold

# Words only one of the languages uses (folded: lower case, no accents). Words shared by
# several (English "balance" is French too, "saldo" is five of them) are left out.
WORDS: dict[str, tuple[str, ...]] = {
    "en": ("invoice", "invoices", "bill", "bills", "statement", "unpaid", "overdue", "paid",
           "payments", "balance", "aging", "ageing", "help", "please", "thanks", "thank",
           "what", "due", "last", "all", "open", "disputed", "dispute", "wrong", "the", "my",
           "show", "send", "talk", "person", "notification", "settings", "alerts", "stop",
           "resume", "week", "month", "year", "quarter", "from", "for", "and", "with", "over",
           "under", "answer", "english", "reply", "copy", "copies", "outstanding", "owe",
           "hello", "hi", "there", "could", "would", "you", "your", "also", "can", "need",
           "our", "us", "team", "is", "are", "of", "to", "this", "that", "great", "perfect",
           "cheers", "regards", "dear", "kind", "best", "just", "again", "connect", "unlink"),
    "de": ("rechnung", "rechnungen", "kontoauszug", "offene", "offen", "unbezahlte",
           "bezahlte", "bezahlt", "uberfallig", "uberfallige", "fallig", "fallige", "zahlungen",
           "bitte", "danke", "hilfe", "alle", "letzte", "letzten", "und", "mit", "fur", "von",
           "bis", "antworte", "antworten", "deutsch", "englisch", "gutschrift", "saldo",
           "kontostand", "schulden", "wir", "woche", "monat", "quartal", "jahr", "mein",
           "meine", "einstellungen", "strittige", "als", "vielen", "dank", "passt", "schicken",
           "sie", "mir", "noch", "ich", "ist", "das", "der", "uns", "haben", "gerne", "hallo",
           "grusse", "gruss", "liebe", "sehr", "geehrte", "geehrter", "guten", "tag",
           "verbinden", "verknupfen"),
    "fr": ("facture", "factures", "releve", "impayee", "impayees", "payee", "payees",
           "echue", "echues", "echeance", "paiements", "merci", "aide", "toutes", "dernieres",
           "derniere", "et", "avec", "pour", "des", "les", "reponds", "repondez", "francais",
           "anglais", "avoir", "solde", "semaine", "mois", "annee", "trimestre", "mes", "en",
           "compte", "sil", "plait", "svp", "bonjour", "beaucoup", "nous", "vous", "je", "du",
           "est", "cordialement", "envoyer", "pouvez"),
    "es": ("factura", "facturas", "extracto", "pagadas", "pagada", "vencidas", "vencida",
           "pendientes", "pagos", "gracias", "ayuda", "todas", "ultimas", "y", "con", "para",
           "responde", "responda", "espanol", "ingles", "semana", "mes", "ano", "cuenta",
           "estado", "por", "favor", "las", "mis", "que", "vencen", "hola", "buenos", "dias",
           "saludos", "muchas", "nos", "el", "envien", "pueden", "enviar"),
    "it": ("fattura", "fatture", "estratto", "conto", "pagate", "pagata", "scadute",
           "scaduta", "scadenza", "pagamenti", "grazie", "aiuto", "tutte", "ultime", "e",
           "rispondi", "rispondere", "italiano", "inglese", "settimana", "mese", "anno",
           "trimestre", "per", "mie", "il", "di", "ciao", "buongiorno", "saluti", "cordiali",
           "mille", "ci", "potete", "inviare", "inviarmi"),
    "nl": ("factuur", "facturen", "rekeningoverzicht", "betaalde", "betaald", "onbetaalde",
           "vervallen", "openstaande", "betalingen", "bedankt", "dank", "hulp", "alle",
           "laatste", "en", "met", "voor", "van", "antwoord", "antwoorden", "nederlands",
           "engels", "week", "maand", "jaar", "kwartaal", "mijn", "graag", "alstublieft",
           "deze", "die", "creditnota", "hallo", "goedemorgen", "groeten", "vriendelijke",
           "kunt", "u", "ons", "sturen", "het", "een"),
    "pt": ("fatura", "faturas", "extrato", "pagas", "paga", "vencidas", "vencimento",
           "pagamentos", "obrigado", "obrigada", "ajuda", "todas", "ultimas", "e", "com",
           "para", "responda", "responde", "portugues", "ingles", "semana", "mes", "ano",
           "conta", "minhas", "por", "favor", "em", "ola", "bom", "dia", "cumprimentos",
           "muito", "podem", "enviar", "os", "da", "do"),
}
_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _owners() -> dict[str, frozenset[str]]:
    """Folded word -> the languages that use it (month names included)."""
    owners: dict[str, set[str]] = {}
    for language, words in WORDS.items():
        for word in words:
            owners.setdefault(word, set()).add(language)
    for language in LOCALES:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, "format", language).items():
                del number
                for word in _WORD.findall(fold(name)):
                    owners.setdefault(word, set()).add(language)
    return {word: frozenset(languages) for word, languages in owners.items()}


def written_in(text: str) -> str | None:
    """The language most of the text's telling words belong to; None if none or a tie.

    A word several languages share counts for each, but only a word one language owns
    can decide, so "facturas marzo" (Spanish and Italian "marzo") reads as Spanish."""
    owners = _owners()
    score: Counter[str] = Counter()
    for word in _WORD.findall(fold(text)[:2000]):
        languages = owners.get(word, frozenset())
        for language in languages:
            score[language] += 2 if len(languages) == 1 else 1
    ranked = score.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]
