"""Invoice numbers and purchase-order numbers as people write them.

Invoice numbers need a mark, so a year, a day or an amount is never taken for one:
- letters joined to digits: "INV-2026-0042", "inv-1042", "RE2026/17", "INV 1042" (with a
  space only when the letters are upper case or "inv", and never a known word: "IN 2025",
  "MARCH 2025" and "OVER 5000" are not numbers);
- a number sign or abbreviation: "#42", "no. 1042", "Nr. 1042", "n° 1042";
- an invoice word: "invoice 42", "Rechnung 1042", "inv 2026 42"; after a plural word a
  year or a numeric month is a period ("invoices 2025", "invoices 03/2026"), and a day
  before a month is a day ("invoice 15 March").
Several numbers after one mark ("invoices 1042, 1043 and 1044") are several references.
PO numbers: "PO 4500123", "PO-77", "P.O. #77", "purchase order 4500123", "Bestellung 77";
Filters.po_number is the PO as written when "PO" is part of it ("PO-77", "PO77"), else the
characters after the words ("4500123" for "PO 4500123" or "purchase order 4500123"); the
account-scoped layer should compare ignoring a leading "PO" and separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.intents import InvoiceRef
from bot.language.months import month_words
from bot.language.patterns import phrase_body
from bot.language.text import Scan
from bot.language.vocabulary import INVOICE_MANY, INVOICE_ONE

NOT_PREFIXES = frozenset({"q", "fy", "po", "kw", "cw", "no", "nr", "num", "nos", "eur", "usd",
                          "gbp", "chf", "h", "ytd", "gj", "am", "pm", "uhr"})
PO_WORDS = ("po", "p o", "p.o", "purchase order", "bestellnummer", "bestellung", "bestell nr",
            "bon de commande", "commande", "orden de compra", "pedido de compra", "pedido",
            "ordine di acquisto", "ordine", "inkooporder", "bestelling", "ordem de compra")
_MARK = r"(?:#|n°|(?:no|nr|nro|num|numero|number|nummer)\.?\s*[:#]?)"
_NUMBER = r"\d+(?:[-/]\d+)*"


@dataclass(frozen=True)
class Found:
    ref: InvoiceRef
    end: int  # folded position after the number (a dispute's reason starts there)


_PREFIXED = re.compile(r"(?<![\w#])(?P<prefix>[a-z]{2,5})(?P<joiner>[-/]?|\s)"
                       rf"(?P<digits>{_NUMBER}(?:\s\d+(?![\w.,]\d))*)(?![\w.,]\d|\w)")
# Starts with a word or a mark, never with nothing: an empty start before "\s*" would make
# the search quadratic on long runs of spaces.
_MARKED = re.compile(
    rf"(?<![\w#])(?:(?:(?P<one>{phrase_body(*INVOICE_ONE)})|(?P<many>{phrase_body(*INVOICE_MANY)}))"
    rf"\s*(?:(?P<mark>{_MARK})\s*)?|(?P<alone>{_MARK})\s*)"
    rf"(?P<digits>{_NUMBER}(?:\s\d+(?![\w.,]\d))*)(?![\w.,]\d|\w)"
)
_MORE = re.compile(rf"^\s*(?:,|and|&|und|et|y|e|en|\+|/)\s*(?:{_MARK}\s*)?(?P<digits>{_NUMBER})"
                   r"(?![\w.,]\d|\w)")
_PO = re.compile(rf"(?<!\w)(?P<words>{phrase_body(*PO_WORDS)})(?P<joiner>\.?\s*(?:{_MARK})?\s*"
                 r"[:#-]?\s*)(?P<po>(?=[a-z0-9/-]*\d)[a-z0-9][a-z0-9/-]*)(?!\w)")
_MONTH_NEXT = re.compile(r"^\.?\s*(?:of\s+|de\s+)?([^\W\d_]+)")


def read_po(scan: Scan) -> str | None:
    match = scan.take_first(_PO)
    if match is None:
        return None
    joined = match["words"] == "po" and match["joiner"] in {"", "-"}  # "PO-7781", "PO77"
    return scan.as_written(match.start() if joined else match.start("po"), match.end("po"))


def read_prefixed(scan: Scan, known: frozenset[str]) -> list[Found]:
    found = []
    for match in list(scan.find(_PREFIXED)):
        prefix, joiner = match["prefix"], match["joiner"]
        written = scan.as_written(match.start("prefix"), match.end("prefix"))
        if prefix in NOT_PREFIXES or prefix in month_words():
            continue
        spaced = joiner.isspace()
        if not _is_prefix(prefix, written, joiner, known):
            continue
        digits = match["digits"] if spaced else match["digits"].split()[0]
        end = match.start("digits") + len(digits)
        found.append(_found(scan, match.start(), end, prefix.upper(), digits))
    return found


def read_marked(scan: Scan) -> list[Found]:
    found: list[Found] = []
    for match in list(scan.find(_MARKED)):
        digits, mark = match["digits"], match["mark"] or match["alone"]
        if match["many"] and not mark and _looks_like_period(digits):
            continue  # "invoices 2025", "invoices 2026-03", "invoices 03/2026"
        if not mark and _day_before_month(scan, match):
            continue  # "invoice 15 March"
        prefix = "INV" if match["one"] == "inv" else ""
        start = match.start("digits")
        if mark:
            start = match.start("mark") if match["mark"] else match.start("alone")
        found.append(_found(scan, start, match.end("digits"), prefix, digits))
        found.extend(_more(scan, match.end("digits")))
    return found


def _more(scan: Scan, end: int) -> list[Found]:
    more = []
    while (match := _MORE.match(scan.text[end:])) is not None:
        start = end + match.start("digits")
        end += match.end("digits")
        more.append(_found(scan, start, end, "", match["digits"]))
    return more


def _found(scan: Scan, start: int, end: int, prefix: str, digits: str) -> Found:
    groups = tuple(int(group) for group in re.findall(r"\d+", digits))
    text = scan.as_written(start, end).strip()
    scan.mask(start, end)
    return Found(InvoiceRef(text, prefix, groups), end)


def _is_prefix(prefix: str, written: str, joiner: str, known: frozenset[str]) -> bool:
    if prefix == "inv":
        return True
    if joiner.isspace():
        return written.isupper() and prefix not in known
    return written.isupper() or (bool(joiner) and prefix not in known)


_NUMERIC_MONTH = re.compile(r"(?:19|20)\d\d[-/]\d{1,2}|\d{1,2}[-/](?:19|20)\d\d")


def _looks_like_period(digits: str) -> bool:
    if digits.isdigit():
        return 1990 <= int(digits) <= 2099
    return bool(_NUMERIC_MONTH.fullmatch(digits))


def _day_before_month(scan: Scan, match: re.Match[str]) -> bool:
    digits = match["digits"]
    after = _MONTH_NEXT.match(scan.text[match.end("digits"):])
    return (digits.isdigit() and int(digits) <= 31 and after is not None
            and after[1] in month_words())
