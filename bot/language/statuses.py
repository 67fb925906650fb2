"""Status words: unpaid, overdue, paid, partially paid, disputed, void, in seven languages.

Groups are read most specific first, each masking what it used, so "partially paid" is not
also "paid", "past due" is not also "due" and "not paid" is not "paid". A few words are WEAK
because they are everyday words too ("open the link", "sorry for the late reply",
"we paid it"):
they count only right next to an invoice word ("open invoices", "invoices still open") or
as the whole request ("open?"). Overdue together with unpaid means overdue: the narrower.
"""

from __future__ import annotations

import re

from bot.intents import OVERDUE, UNPAID
from bot.language.patterns import phrase_body, phrases
from bot.language.text import Scan
from bot.language.vocabulary import INVOICE_MANY, INVOICE_ONE
from vault.models import InvoiceStatus

PARTIAL = (
    "partially paid", "part paid", "partly paid", "partial payment", "partial payments",
    "teilweise bezahlt", "teilweise bezahlte", "teilbezahlt", "teilbezahlte", "teilzahlung",
    "partiellement payee", "partiellement payees", "partiellement reglee",
    "partiellement reglees", "paiement partiel", "parcialmente pagada", "parcialmente pagadas",
    "pago parcial", "parzialmente pagata", "parzialmente pagate", "pagamento parziale",
    "gedeeltelijk betaald", "gedeeltelijk betaalde", "deels betaald", "parcialmente paga",
    "parcialmente pagas", "pagamento parcial",
)
NOT_PAID = (
    "not paid", "not yet paid", "unpaid", "nicht bezahlt", "noch nicht bezahlt", "unbezahlt",
    "unbezahlte", "unbezahlten", "non payee", "non payees", "non reglee", "non reglees",
    "impayee", "impayees", "impaye", "impayes", "no pagada", "no pagadas", "sin pagar",
    "impagada", "impagadas", "non pagata", "non pagate", "insoluta", "insolute", "da pagare",
    "niet betaald", "onbetaald", "onbetaalde", "nao paga", "nao pagas", "nao pago", "nao pagos",
    "por pagar", "em aberto", "a payer",
)
OVERDUE_WORDS = (
    "overdue", "past due", "delinquent", "uberfallig", "uberfallige", "uberfalligen",
    "verspatet", "verspatete", "in verzug", "en retard", "echue", "echues", "vencida",
    "vencidas", "atrasada", "atrasadas", "en mora", "scaduta", "scadute", "in ritardo",
    "achterstallig", "achterstallige", "te laat", "vervallen", "em atraso",
)
DISPUTED = (
    "disputed", "in dispute", "under dispute", "contested", "strittig", "strittige",
    "strittigen", "bestritten", "bestrittene", "reklamiert", "reklamierte", "contestee",
    "contestees", "en litige", "disputada", "disputadas", "en disputa", "impugnada",
    "impugnadas", "contestata", "contestate", "in contestazione", "betwist", "betwiste",
    "in geschil", "contestada", "contestadas", "em disputa", "em litigio",
)
VOID = (
    "void", "voided", "cancelled", "canceled", "storniert", "stornierte", "annulliert",
    "annullierte", "annulee", "annulees", "anulada", "anuladas", "cancelada", "canceladas",
    "annullata", "annullate", "stornata", "stornate", "geannuleerd", "geannuleerde",
)
PAID = (
    "paid", "settled", "bezahlt", "bezahlte", "bezahlten", "beglichen", "beglichene", "payee",
    "payees", "reglee", "reglees", "pagada", "pagadas", "pagado", "pagados", "pagata", "pagate",
    "saldata", "saldate", "betaald", "betaalde", "voldaan", "pagas", "liquidada", "liquidadas",
    "quitada", "quitadas",
)
UNPAID_WORDS = (
    "outstanding", "open items", "offene posten", "owe", "owing", "owed", "pending",
    "unsettled", "offen", "offene", "offenen", "ausstehend", "ausstehende", "ausstehenden",
    "ouverte", "ouvertes", "en attente", "pendiente",
    "pendientes", "abierta", "abiertas", "aperta", "aperte", "in sospeso", "openstaand",
    "openstaande", "uitstaand", "uitstaande", "pendente", "pendentes", "a pagar",
)
WEAK_UNPAID = ("open",)  # "due" and "fällig" are due words: bot.language.due
WEAK_OVERDUE = ("late",)

_GROUPS: tuple[tuple[re.Pattern[str], tuple[InvoiceStatus, ...]], ...] = (
    (phrases(*PARTIAL), (InvoiceStatus.PARTIALLY_PAID,)),
    (phrases(*NOT_PAID), UNPAID),
    (phrases(*OVERDUE_WORDS), OVERDUE),
    (phrases(*DISPUTED), (InvoiceStatus.DISPUTED,)),
    (phrases(*VOID), (InvoiceStatus.VOID,)),
    (phrases(*UNPAID_WORDS), UNPAID),
)
_NOUN = phrase_body(*INVOICE_ONE, *INVOICE_MANY)
_WEAK: tuple[tuple[re.Pattern[str], tuple[InvoiceStatus, ...]], ...] = (
    (phrases(*WEAK_OVERDUE), OVERDUE),
    (phrases(*WEAK_UNPAID), UNPAID),
    (phrases(*PAID), (InvoiceStatus.PAID,)),  # "we paid it yesterday" asks for nothing
)
# What may stand around a weak word that is the whole request ("open?", "all paid ones").
_ALONE = frozenset({"all", "any", "anything", "what", "s", "is", "are", "still", "please",
                    "the", "ones", "only", "show", "list", "me", "my", "our", "which"})
_NOUN_BEFORE = re.compile(rf"(?<!\w)(?:{_NOUN})(?:\s+(?:the|are|is|that|which|still|currently|"
                          rf"now|all)){{0,3}}\s*$")
_NOUN_AFTER = re.compile(rf"^\s*(?:(?:all|our|my|the|any|of)\s+){{0,2}}(?:{_NOUN})(?!\w)")


def read_statuses(scan: Scan) -> tuple[InvoiceStatus, ...]:
    """The statuses the line asks for, in InvoiceStatus order ((): any status)."""
    found: set[InvoiceStatus] = set()
    groups: list[tuple[InvoiceStatus, ...]] = []
    for pattern, statuses in _GROUPS:
        if scan.take(pattern):
            groups.append(statuses)
    for pattern, statuses in _WEAK:
        for match in list(scan.find(pattern)):
            if beside_invoice_word(scan, match):
                scan.mask(match.start(), match.end())
                groups.append(statuses)
    for statuses in groups:
        found.update(statuses)
    if OVERDUE in groups and UNPAID in groups:
        found -= {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID} - _explicit(groups)
    return tuple(status for status in InvoiceStatus if status in found)


def _explicit(groups: list[tuple[InvoiceStatus, ...]]) -> set[InvoiceStatus]:
    return {InvoiceStatus.PARTIALLY_PAID} if (InvoiceStatus.PARTIALLY_PAID,) in groups else set()


def beside_invoice_word(scan: Scan, match: re.Match[str]) -> bool:
    """A weak status word counts next to an invoice word, or as the whole request."""
    before, after = scan.text[:match.start()], scan.text[match.end():]
    if _NOUN_BEFORE.search(before) or _NOUN_AFTER.match(after):
        return True
    return all(word in _ALONE for word in re.findall(r"[^\W\d_]+", before + " " + after))
