"""`invoicebot vault migrate --to URL` and `invoicebot vault verify`: the vault's storage.

migrate copies every document from the configured vault ([vault] url) to another one
(file:FOLDER or s3://BUCKET/PREFIX; an S3 target uses [vault] s3_endpoint and s3_region
unless --endpoint / --region say otherwise), checking each copy's sha256; run it again after
an interruption and it skips what is already there whole. Then point [vault] url at the
target. verify reads every document back and names the missing and corrupt ones (exit 1
when there are any). Both run beside `serve`: documents are immutable.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.errors import UsageError
from vault import storage_check
from vault.config import Config, ConfigError
from vault.config_sources import Origins
from vault.config_vault import VaultConfig, vault_config
from vault.documents import DocumentStore
from vault.storage import open_storage

EXIT_OK, EXIT_PROBLEMS = 0, 1


def add_parser(sub: Any) -> None:
    vault = sub.add_parser("vault", help="the vault's storage: copy it elsewhere, verify it")
    actions = vault.add_subparsers(dest="vault_command", required=True)
    migrate = actions.add_parser("migrate", help="copy every document to another storage, "
                                 "resumable, checking each copy's sha256")
    migrate.add_argument("--to", required=True, metavar="URL",
                         help="file:FOLDER or s3://BUCKET/PREFIX")
    migrate.add_argument("--endpoint", metavar="URL", help="the target's S3 endpoint "
                         "(default: vault.s3_endpoint)")
    migrate.add_argument("--region", help="the target's S3 region (default: vault.s3_region)")
    actions.add_parser("verify", help="check every document's sha256 and size; name the "
                       "missing and corrupt ones (exit 1 if any)")


async def run(args: argparse.Namespace, config: Config) -> int:
    from bot.commands_cli import database

    async with database(config):
        if args.vault_command == "migrate":
            return await migrate(args, config)
        return await verify(config)


async def migrate(args: argparse.Namespace, config: Config) -> int:
    target_config = target(config.vault, args.to, args.endpoint, args.region)
    if target_config.url == config.vault.url:
        raise UsageError(f"--to {args.to}: that is the configured vault ({config.vault.setting})")
    source, destination = DocumentStore.open(config.vault), open_storage(target_config)
    try:
        with progress("copying", await storage_check.count()) as tick:
            tally = await storage_check.copy_documents(source, destination, tick)
    finally:
        await source.close()
        await destination.close()
    _report(tally)
    print(f"{tally.checked} documents: {tally.copied} copied, {tally.skipped} already there, "
          f"{len(tally.problems)} failed; from {config.vault.url} to {target_config.url}")
    if tally.problems:
        return EXIT_PROBLEMS
    print(f"every document is at {target_config.url}: set [vault] url to it and restart")
    return EXIT_OK


async def verify(config: Config) -> int:
    store = DocumentStore.open(config.vault)
    try:
        with progress("verifying", await storage_check.count()) as tick:
            tally = await storage_check.verify(store, tick)
    finally:
        await store.close()
    _report(tally)
    missing = sum(p.what == "missing" for p in tally.problems)
    print(f"{config.vault.url}: {tally.checked} documents checked, {missing} missing, "
          f"{len(tally.problems) - missing} corrupt")
    return EXIT_PROBLEMS if tally.problems else EXIT_OK


def target(current: VaultConfig, url: str, endpoint: str | None, region: str | None
           ) -> VaultConfig:
    """The --to URL as a vault, validated as [vault] url is (errors name --to)."""
    section = {"url": url, "path": "", "s3_presign": False,
               "s3_endpoint": current.s3_endpoint if endpoint is None else endpoint,
               "s3_region": current.s3_region if region is None else region}
    try:
        parsed = vault_config(section, _ArgumentOrigins())
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return dataclasses.replace(parsed, setting="--to")


class _ArgumentOrigins(Origins):
    """Names the command line's options in messages, as Origins names config keys."""

    def __init__(self) -> None:
        super().__init__("command line", from_file=frozenset({("vault", "url")}))

    def __call__(self, section: str, key: str) -> str:
        return {"url": "--to", "s3_endpoint": "--endpoint", "s3_region": "--region"}.get(
            key, f"{section}.{key}")


@contextmanager
def progress(verb: str, total: int) -> Iterator[Callable[[], None]]:
    """A live bar on a terminal (stderr); silent in a pipe or a log."""
    console = Console(stderr=True)
    bar = Progress(TextColumn(f"{verb} documents"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=console, transient=True,
                   disable=not console.is_terminal)
    task = bar.add_task(verb, total=total)
    with bar:
        yield lambda: bar.advance(task)


def _report(tally: storage_check.Tally) -> None:
    for problem in tally.problems:
        print(problem)
