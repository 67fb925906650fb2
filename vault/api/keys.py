"""API keys: made once (the key is shown then and never again), stored as a SHA-256.

A key is `ibk_` and 43 url-safe characters (32 random bytes): the prefix makes one that
leaked into a file or a log recognisable (secret scanners can match it). Since the key is
random and long, an unsalted SHA-256 is enough to keep the stored form useless to a thief,
and it lets a request's key be found by one indexed lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from tortoise.exceptions import IntegrityError

from vault.models import ApiKey
from vault.vocabulary import ApiScope

PREFIX = "ibk_"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class ApiKeyRefused(ValueError):
    """A key cannot be made or revoked as asked; the message says why."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(name: str, scope: ApiScope, now: datetime) -> str:
    """A new key named `name`; returns the key itself (the only time it is known)."""
    if not _NAME.fullmatch(name):
        raise ApiKeyRefused(f"--name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    key = PREFIX + secrets.token_urlsafe(32)
    try:
        await ApiKey.create(name=name, scope=scope, key_hash=hash_key(key),
                            prefix=key[:len(PREFIX) + 4], created_at=now)
    except IntegrityError:
        raise ApiKeyRefused(f"--name {name!r}: a key of that name exists (revoked keys keep "
                        "their name)") from None
    return key


async def all_keys() -> list[ApiKey]:
    return await ApiKey.all().order_by("name")


async def revoke_key(name: str, now: datetime) -> None:
    updated = await ApiKey.filter(name=name, revoked_at=None).update(revoked_at=now)
    if not updated:
        raise ApiKeyRefused(f"{name!r}: no active key of that name (see `invoicebot apikey list`)")


async def authenticate(authorization: str) -> ApiKey | None:
    """The active key an `Authorization: Bearer KEY` header names, else None."""
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key.startswith(PREFIX):
        return None
    found = await ApiKey.get_or_none(key_hash=hash_key(key))
    if found is None or found.revoked_at is not None:
        return None
    return found
