"""Data at rest is the service's own: the database and the vault are readable by its user
only. Every invoicebot process runs with umask 077 (bot.cli), so what it creates is
0600/0700; files made before, or by hand, are checked at start."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("invoicebot.permissions")

PRIVATE_UMASK = 0o077
SHOWN = 5  # paths named in the warning; the count says how many more


def database_files(database_url: str) -> list[Path]:
    """The SQLite file and its journal files; none for a server database."""
    if not database_url.startswith("sqlite://"):
        return []
    path = Path(database_url.removeprefix("sqlite://"))
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]


def _tree(root: Path) -> Iterator[Path]:
    if not root.exists():
        return
    yield root
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            yield Path(folder, name)


def wider_than_private(paths: list[Path], trees: list[Path]) -> list[Path]:
    """Files and folders that group or others may read, write or enter."""
    wide = []
    for path in [*paths, *(p for root in trees for p in _tree(root))]:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue
        if not stat.S_ISLNK(mode) and mode & 0o077:
            wide.append(path)
    return wide


def warn_if_wide(database_url: str, vault_path: Path | None) -> list[Path]:
    """One warning naming what is wider than 0600/0700 (call it off the event loop); the
    vault folder, when the vault is one (vault_path None: an object store)."""
    folders = [vault_path] if vault_path is not None else []
    wide = wider_than_private(database_files(database_url), folders)
    if wide:
        named = ", ".join(f"{p} ({stat.filemode(p.lstat().st_mode)})" for p in wide[:SHOWN])
        more = f" and {len(wide) - SHOWN} more" if len(wide) > SHOWN else ""
        log.warning("readable by other users: %s%s; the database and vault hold invoices and "
                    "mail: chmod them 0600 (folders 0700)", named, more)
    return wide
