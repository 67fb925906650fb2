"""The `invoicebot` command line: the composition root of the application.

Exit codes: 0 success; 2 bad usage, bad config or bad input (the message names the file,
key or row); 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot import cli_apikey, cli_chat, cli_notify, cli_report, cli_stripe, logsetup
from bot.errors import UsageError
from vault.config import Config, ConfigError, load_config
from vault.ingest.csv import ImportFailed
from vault.permissions import PRIVATE_UMASK

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2
LOG_FORMAT = logsetup.TEXT_FORMAT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invoicebot", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config file (default $INVOICEBOT_CONFIG, ./config.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the SMTP, HTTP, chat and scheduler parts")
    serve.add_argument("--demo", action="store_true", help="load demo data into an empty db")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    imp = sub.add_parser("import", help="import a CSV file")
    imp.add_argument("kind", choices=["accounts", "contacts", "invoices", "payments"])
    imp.add_argument("file", type=Path)
    shown = imp.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true",
                       help="show progress even when stderr is not a terminal (plain lines)")
    shown.add_argument("--no-progress", action="store_true", help="no progress bar")
    imp.add_argument("--decimal-comma", action="store_true",
                     help="numbers in the file are written 1.234,50 (decimal comma)")
    imp.add_argument("--no-alerts", action="store_true",
                     help="record events without alerting anyone, however recent (history "
                          "older than notifier.alert_window is never alerted anyway)")
    ask = sub.add_parser("ask", help="print the reply a contact would get")
    ask.add_argument("--from", dest="sender", required=True, metavar="EMAIL")
    ask.add_argument("--today", metavar="YYYY-MM-DD",
                     help="answer as of this date, leaving out what was issued or paid after "
                          "it (reproduce what a contact saw)")
    ask.add_argument("text", nargs="+")
    audit = sub.add_parser("audit", help="audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser("export", help="audit events as CSV on stdout")
    export.add_argument("--account", help="only this account_id")
    export.add_argument("--since", help="only events on or after YYYY-MM-DD")
    cli_notify.add_parser(sub)
    cli_apikey.add_parser(sub)
    cli_chat.add_parser(sub)
    cli_stripe.add_parser(sub)
    cli_report.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage message on bad usage
    # Everything this process creates (database, PDFs, ZIPs, the demo key) is its user's
    # only: the database holds raw mail and the vault every invoice.
    os.umask(PRIVATE_UMASK)
    logsetup.configure()  # text at INFO until the config says otherwise
    try:
        config = load_config(args.config)
        logsetup.configure(config.log)
        return asyncio.run(_dispatch(args, config))
    except (ConfigError, ImportFailed, UsageError) as exc:
        print(f"invoicebot: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        # The reader went away (`audit export | head`): what it wanted it has. Point stdout
        # at /dev/null so the interpreter's final flush does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


async def _dispatch(args: argparse.Namespace, config: Config) -> int:
    from bot import commands_cli

    handlers: dict[str, Callable[[argparse.Namespace, Config], Awaitable[int]]] = {
        "serve": commands_cli.serve,
        "migrate": commands_cli.migrate,
        "import": commands_cli.import_file,
        "ask": commands_cli.ask,
        "audit": commands_cli.audit_export,
        "notify": cli_notify.run,
        "apikey": cli_apikey.run,
        "chat": cli_chat.run,
        "stripe": cli_stripe.run,
        "report": cli_report.run,
    }
    return await handlers[args.command](args, config)


if __name__ == "__main__":
    sys.exit(main())
