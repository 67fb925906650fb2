"""`invoicebot backup DIR` and `invoicebot restore DIR`: the embedded store, whole.

Backup runs beside `serve` (SQLite's online backup is consistent while it writes); restore
goes into an empty place only and checks every hash first (vault.backup).
"""

from __future__ import annotations

import argparse
import asyncio
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.errors import UsageError
from vault import backup as backups
from vault.clock import SYSTEM
from vault.config import Config

EXIT_OK = 0


def add_parser(sub: Any) -> None:
    made = sub.add_parser("backup", help="copy the SQLite database and the vault's documents, "
                                         "with a manifest of hashes, into a new folder")
    made.add_argument("folder", type=Path, metavar="DIR")
    back = sub.add_parser("restore", help="restore a backup folder into an empty database "
                                          "and vault (as config.toml names them)")
    back.add_argument("folder", type=Path, metavar="DIR")


def vault_folder(config: Config) -> Path:
    """The vault folder; an object-store vault is refused with what to use instead."""
    if config.vault.folder is None:
        raise UsageError(f"{config.vault.setting} is {config.vault.url}: backup copies a vault "
                         "folder; for object storage use bucket versioning, or copy it with "
                         "`invoicebot vault migrate --to file:FOLDER`")
    return config.vault.folder


async def backup(args: argparse.Namespace, config: Config) -> int:
    try:
        summary = await asyncio.to_thread(
            backups.backup, config.database_url, vault_folder(config), args.folder, SYSTEM,
            metadata.version("invoicebot"))
    except backups.BackupError as exc:
        raise UsageError(str(exc)) from None
    print(f"{summary.folder}: database and {summary.documents} documents "
          f"({summary.bytes / 1e6:.1f} MB), manifest.json lists their sha256")
    return EXIT_OK


async def restore(args: argparse.Namespace, config: Config) -> int:
    try:
        summary = await asyncio.to_thread(
            backups.restore, args.folder, config.database_url, vault_folder(config))
    except backups.BackupError as exc:
        raise UsageError(str(exc)) from None
    print(f"restored {summary.folder}: database and {summary.documents} documents into "
          f"{config.vault.shown}; `invoicebot migrate` upgrades it if this version is newer")
    return EXIT_OK
