"""Mail domains and addresses compared the way DMARC means, without Unicode folding tricks.

Addresses are compared after ASCII lower-casing only: `str.lower()` folds the Kelvin sign
(U+212A) into "k" and the dotted capital I into "i̇", so a look-alike mailbox would read
as a contact's. Domains are compared as IDNA 2008 A-labels (contacts are stored in
ASCII), and a Unicode label that IDNA 2008 refuses (upper case, compatibility characters
such as the Kelvin sign) makes the domain invalid rather than folded into a valid one.

Alignment is DMARC's relaxed alignment (RFC 7489 §3.1.1): the organizational domains are
equal, each computed from the Public Suffix List bundled with `publicsuffixlist` (no
network). A public suffix itself (co.uk, github.io, or an unlisted TLD such as
"example") has no organizational domain and aligns with nothing.
"""

from __future__ import annotations

import string
from functools import cache

import idna
from publicsuffixlist import PublicSuffixList

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(text: str) -> str:
    """Lower case for A-Z only: no other character changes."""
    return text.translate(_ASCII_LOWER)


def a_label_domain(domain: str) -> str | None:
    """The domain as lower-case IDNA A-labels, without a trailing dot; None if invalid."""
    text = ascii_lower(domain.strip()).removesuffix(".")
    if not text or len(text) > 253:
        return None
    labels = text.split(".")
    try:
        encoded = [label if label.isascii() else idna.encode(label, uts46=False).decode()
                   for label in labels]
    except (idna.IDNAError, UnicodeError):
        return None
    if any(not label or len(label) > 63 for label in encoded):
        return None
    return ".".join(encoded)


def normalized_address(local_part: str, domain: str) -> str | None:
    """`local@domain` with the local part ASCII lower-cased and the domain as A-labels."""
    a_label = a_label_domain(domain)
    return None if a_label is None else f"{ascii_lower(local_part)}@{a_label}"


@cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped in the package; built once (~0.1 s)


def organizational_domain(domain: str) -> str | None:
    """The registrable domain under its public suffix (acme.co.uk for mail.acme.co.uk)."""
    a_label = a_label_domain(domain)
    if a_label is None:
        return None
    found: str | None = _suffix_list().privatesuffix(a_label)
    return found


def aligned(from_domain: str, signing_domain: str) -> bool:
    """Relaxed DMARC alignment: both domains share one organizational domain."""
    from_org = organizational_domain(from_domain)
    return from_org is not None and from_org == organizational_domain(signing_domain)


def same_domain(a: str, b: str) -> bool:
    """Equal as A-labels (DMARC's header.from against the From domain)."""
    first = a_label_domain(a)
    return first is not None and first == a_label_domain(b)
