"""Backup and restore of the embedded store: the SQLite database and the vault's documents.

A backup is a folder: `invoicebot.db` (SQLite's online backup: a consistent snapshot taken
while `serve` keeps writing), `vault/` (every document the snapshot's rows point at) and
`manifest.json` (each file's SHA-256 and size). Documents are immutable and written before
their row (vault.documents), so copying after the snapshot always finds every file it names.

Restore checks every hash before it writes anything, and only into an empty place: it never
merges into, or overwrites, a live store.

PostgreSQL and object storage have better tools (pg_dump, bucket versioning); there backup
refuses with that advice rather than copy something half-consistent.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from vault.clock import Clock

MANIFEST = "manifest.json"
DATABASE = "invoicebot.db"
DOCUMENTS = "vault"
FORMAT = 1
_CHUNK = 1 << 20

POSTGRES_ADVICE = (
    "database.url is PostgreSQL: back it up with pg_dump (pg_dump -Fc DBNAME > invoicebot.dump; "
    "restore with pg_restore) and the vault folder with your file backups, or bucket "
    "versioning for object storage; see README 'Running in production'"
)


class BackupError(ValueError):
    """Backup or restore cannot go on; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Summary:
    folder: Path
    documents: int
    bytes: int


def sqlite_file(database_url: str) -> Path:
    """The SQLite file behind database.url; PostgreSQL is refused with what to use instead."""
    connection = expand_db_url(database_url)
    if connection["engine"] != "tortoise.backends.sqlite":
        raise BackupError(POSTGRES_ADVICE)
    path = connection["credentials"]["file_path"]
    if path == ":memory:":
        raise BackupError("database.url is an in-memory SQLite database: nothing to back up")
    return Path(path)


def backup(database_url: str, vault: Path, target: Path, clock: Clock, version: str) -> Summary:
    source = sqlite_file(database_url)
    if not source.exists():
        raise BackupError(f"{source}: no database here (database.url)")
    _empty_folder(target, "backup folder")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    snapshot = target / DATABASE
    _online_backup(source, snapshot)
    documents = [_copy_document(vault, target / DOCUMENTS, row) for row in _documents(snapshot)]
    database = _entry(snapshot, DATABASE)
    _write_json(target / MANIFEST, {
        "format": FORMAT, "invoicebot": version, "created_at": clock.now().isoformat(),
        "database": database, "documents": documents,
    })  # written last: a folder without it is an unfinished backup, and restore says so
    total = database["size"] + sum(d["size"] for d in documents)
    return Summary(target, len(documents), total)


def restore(source: Path, database_url: str, vault: Path) -> Summary:
    target_db = sqlite_file(database_url)
    manifest = _read_manifest(source)
    _verify(source, manifest)  # nothing is written unless every file is whole
    if target_db.exists():
        raise BackupError(f"{target_db}: a database is already here; restore only into an "
                          "empty place (move it away, or point database.url elsewhere)")
    _empty_folder(vault, "vault.path")
    target_db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _copy_private(source / DATABASE, target_db)
    for document in manifest["documents"]:
        _copy_private(source / DOCUMENTS / document["key"], vault / document["key"])
    total = manifest["database"]["size"] + sum(d["size"] for d in manifest["documents"])
    return Summary(source, len(manifest["documents"]), total)


def _online_backup(source: Path, snapshot: Path) -> None:
    """SQLite's backup API: a consistent copy while other connections write (WAL)."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=15)
    writer = sqlite3.connect(snapshot)
    try:
        with writer:
            reader.backup(writer)
        writer.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
    finally:
        writer.close()
        reader.close()
    os.chmod(snapshot, 0o600)


def _documents(snapshot: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(snapshot) as connection:
        return list(connection.execute("SELECT storage_key, sha256, size FROM document "
                                       "ORDER BY id"))


def _copy_document(vault: Path, into: Path, row: tuple[str, str, int]) -> dict[str, Any]:
    key, sha256, size = row
    source = vault / key
    if not source.is_file():
        raise BackupError(f"{source}: document {sha256[:12]} is missing from the vault")
    entry = _copy_private(source, into / key)
    if (entry["sha256"], entry["size"]) != (sha256, size):
        raise BackupError(f"{source}: content does not match its address (corrupt document)")
    return {"key": key, **entry}


def _copy_private(source: Path, destination: Path) -> dict[str, Any]:
    """Copy with 0600/0700 permissions, hashing as it goes; returns sha256 and size."""
    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as reading, os.fdopen(descriptor, "wb") as writing:
        while chunk := reading.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writing.write(chunk)
        writing.flush()
        os.fsync(writing.fileno())
    return {"sha256": digest.hexdigest(), "size": size}


def _entry(path: Path, name: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as reading:
        while chunk := reading.read(_CHUNK):
            digest.update(chunk)
    return {"file": name, "sha256": digest.hexdigest(), "size": path.stat().st_size}


def _verify(source: Path, manifest: dict[str, Any]) -> None:
    expected = [(DATABASE, manifest["database"]["sha256"], manifest["database"]["size"])]
    expected += [(f"{DOCUMENTS}/{d['key']}", d["sha256"], d["size"]) for d in manifest["documents"]]
    for relative, sha256, size in expected:
        path = source / relative
        if not path.is_file():
            raise BackupError(f"{path}: listed in {MANIFEST} but missing")
        found = _entry(path, relative)
        if (found["sha256"], found["size"]) != (sha256, size):
            raise BackupError(f"{path}: does not match the sha256 in {MANIFEST} (damaged backup)")


def _read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"{path}: not found; is {source} a backup folder?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path}: not valid JSON ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: format {manifest.get('format')!r}, this version reads "
                          f"{FORMAT}")
    return manifest


def _empty_folder(folder: Path, what: str) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder}: {what} must be a new or empty folder")


def _write_json(path: Path, value: dict[str, Any]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as writing:
        json.dump(value, writing, indent=1)
        writing.write("\n")

