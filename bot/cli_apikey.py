"""`invoicebot apikey create|list|revoke`: the keys billing systems use for /api/v1.

    apikey create --name erp --scope ingest     (prints the key once; only its hash is kept)
    apikey list
    apikey revoke erp
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.errors import UsageError
from vault import audit
from vault.api.keys import ApiKeyRefused, all_keys, create_key, revoke_key
from vault.clock import SYSTEM
from vault.config import Config
from vault.vocabulary import ApiScope

EXIT_OK = 0


def add_parser(sub: Any) -> None:
    apikey = sub.add_parser("apikey", help="API keys for /api/v1 (create, list, revoke)")
    actions = apikey.add_subparsers(dest="apikey_command", required=True)
    create = actions.add_parser("create", help="make a key and print it (shown only once)")
    create.add_argument("--name", required=True, help="who uses it, e.g. erp")
    create.add_argument("--scope", required=True, choices=[s.value for s in ApiScope],
                        help="ingest: POST objects; read: GET invoices and changes")
    actions.add_parser("list", help="every key: name, scope, prefix, created, revoked")
    revoke = actions.add_parser("revoke", help="stop a key at once (401 from then on)")
    revoke.add_argument("name")


async def run(args: argparse.Namespace, config: Config) -> int:
    from bot.commands_cli import database  # imported on use: it loads the PDF renderer

    async with database(config):
        try:
            if args.apikey_command == "create":
                key = await create_key(args.name, ApiScope(args.scope), SYSTEM.now())
                await audit.record("vault.api.key_created", key=args.name, scope=args.scope)
                print(key)
                print(f"(API key {args.name!r}, scope {args.scope}: store it now, it is not "
                      "shown again)")
            elif args.apikey_command == "revoke":
                await revoke_key(args.name, SYSTEM.now())
                await audit.record("vault.api.key_revoked", key=args.name)
                print(f"API key {args.name!r} revoked")
            else:
                await _list()
        except ApiKeyRefused as exc:
            raise UsageError(str(exc)) from None
    return EXIT_OK


async def _list() -> None:
    print(f"{'name':<20} {'scope':<7} {'prefix':<10} {'created':<17} revoked")
    for key in await all_keys():
        revoked = key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "-"
        print(f"{key.name:<20} {key.scope:<7} {key.prefix + '…':<10} "
              f"{key.created_at.strftime('%Y-%m-%d %H:%M'):<17} {revoked}")
