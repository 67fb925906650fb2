"""One-time codes sent to a contact's address on file: the rules chat linking
(bot.chatlink) and the account page's step-up (vault.stepup) share.

A code is random digits, stored only as an HMAC bound to whoever asked for it (a chat
account, a page session), so a copy of the table reveals no code and a code typed
elsewhere never matches. It lives CODE_TTL and allows MAX_TRIES tries: every try is
counted before it is checked, in one atomic update, so the try after the last one fails
even when it is right, and tries racing each other cannot get past the limit together.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from tortoise.expressions import F
from tortoise.models import Model

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5  # per code: after five wrong ones, the sixth try fails even if right


def new_code(digits: int) -> str:
    return f"{secrets.randbelow(10 ** digits):0{digits}d}"


def code_hash(secret: str, bound_to: str, code: str) -> str:
    """HMAC-SHA256 of the code and whom it was sent for (`bound_to`)."""
    return hmac.new(secret.encode(), f"{bound_to}:{code}".encode(), hashlib.sha256).hexdigest()


def matches(secret: str, bound_to: str, code: str, stored: str) -> bool:
    return hmac.compare_digest(code_hash(secret, bound_to, code), stored)


async def count_try(model: type[Model], row_id: int) -> bool:
    """Count one try on an open code row (fields `tries`, `closed`); False when the row
    is closed or its tries are spent, so the try must fail whatever was typed."""
    changed = await model.filter(id=row_id, closed=False, tries__lt=MAX_TRIES).update(
        tries=F("tries") + 1)
    return bool(changed)


async def close_if_spent(model: type[Model], row_id: int) -> None:
    """Close a code whose tries are used up: a new one must be asked for."""
    await model.filter(id=row_id, tries__gte=MAX_TRIES).update(closed=True)
