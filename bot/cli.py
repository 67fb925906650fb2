"""invoicebot: answers customers' invoice requests by email, Slack and Telegram.

The command line, and the composition root: each command builds only the parts it needs.

Exit codes: 0 success; 2 bad usage, bad config or bad input (the message names the file,
key or row); 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib import metadata
from pathlib import Path

from bot import (
    cli_access,
    cli_apikey,
    cli_backup,
    cli_chat,
    cli_config,
    cli_notify,
    cli_report,
    cli_stripe,
    cli_vault,
    logsetup,
)
from bot.errors import StartupError, UsageError
from vault.config import Config, ConfigError, load_config
from vault.ingest.csv import KINDS, ImportFailed
from vault.permissions import PRIVATE_UMASK

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 128  # + the signal's number, as a shell reports a killed command
LOG_FORMAT = logsetup.TEXT_FORMAT
CONFIG_HELP = "config file (default $INVOICEBOT_CONFIG, else ./config.toml if it exists)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invoicebot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"invoicebot {_version()}")
    parser.add_argument("--config", help=CONFIG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the SMTP, HTTP, chat and scheduler parts")
    serve.add_argument("--demo", action="store_true", help="load demo data into an empty db")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    imp = sub.add_parser("import", help="import a CSV file")
    imp.add_argument("kind", choices=KINDS)
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
    cli_access.add_parser(sub)
    cli_stripe.add_parser(sub)
    cli_config.add_parser(sub)
    cli_backup.add_parser(sub)
    cli_report.add_parser(sub)
    cli_vault.add_parser(sub)
    _accept_config_anywhere(parser)
    return parser


def _accept_config_anywhere(parser: argparse.ArgumentParser) -> None:
    """`invoicebot import --config X ...` works as `invoicebot --config X import ...` does:
    operators put options after the command as often as before it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                # SUPPRESS: a command without --config keeps the value given before it.
                command.add_argument("--config", help=CONFIG_HELP, default=argparse.SUPPRESS)
                _accept_config_anywhere(command)


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so the same clean-up runs."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def _version() -> str:
    try:
        return metadata.version("invoicebot")
    except metadata.PackageNotFoundError:  # run from a tree that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage message on bad usage
    # Everything this process creates (database, PDFs, ZIPs, the demo key) is its user's
    # only: the database holds raw mail and the vault every invoice.
    os.umask(PRIVATE_UMASK)
    logsetup.configure()  # text at INFO until the config says otherwise
    if args.command == "config":  # shows the settings even when they do not validate
        return cli_config.run(args)
    # SIGTERM (systemd, kill) ends a command as Ctrl-C does: tasks are cancelled, so context
    # managers close the database and stop the PDF workers, instead of dying mid-write.
    # `serve` replaces both with its own graceful stop.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        config = load_config(args.config)
        logsetup.configure(config.log)
        return asyncio.run(_dispatch(args, config))
    except (ConfigError, ImportFailed, UsageError, StartupError) as exc:
        print(f"invoicebot: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"invoicebot {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED + signal.SIGINT
    except Terminated:
        print(f"invoicebot {args.command}: terminated", file=sys.stderr)
        return EXIT_INTERRUPTED + signal.SIGTERM
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
        "access": cli_access.run,
        "stripe": cli_stripe.run,
        "backup": cli_backup.backup,
        "restore": cli_backup.restore,
        "report": cli_report.run,
        "vault": cli_vault.run,
    }
    return await handlers[args.command](args, config)


if __name__ == "__main__":
    sys.exit(main())
