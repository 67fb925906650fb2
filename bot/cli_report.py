"""`invoicebot report [--since YYYY-MM-DD] [--account ID] [--format text|csv|json]`: what
the bot did and saved over a period (vault.report), from stored rows, for any past period
still kept. --since is a UTC day; without it, everything kept."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from typing import Any

from bot.errors import UsageError
from vault.config import Config
from vault.csvsafe import SafeCsvWriter
from vault.models import Account
from vault.report import Report, build

EXIT_OK = 0
FORMATS = ("text", "csv", "json")


def add_parser(sub: Any) -> None:
    report = sub.add_parser("report", help="requests answered, time to retrieval, downloads, "
                                           "what was not understood")
    report.add_argument("--since", metavar="YYYY-MM-DD", type=_day,
                        help="only what happened on or after this day (UTC)")
    report.add_argument("--account", metavar="ID", help="only this account (its account_id)")
    report.add_argument("--format", choices=FORMATS, default="text")


def _day(value: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def run(args: argparse.Namespace, config: Config) -> int:
    from bot.commands_cli import database

    async with database(config):
        account_pk = None
        if args.account:
            account = await Account.get_or_none(account_id=args.account)
            if account is None:
                raise UsageError(f"--account: no account {args.account!r}")
            account_pk = account.id
        report = await build(args.since, account_pk, args.account)
    {"text": _text, "csv": _csv, "json": _json}[args.format](report)
    return EXIT_OK


def _json(report: Report) -> None:
    print(json.dumps(report.figures(), indent=2, ensure_ascii=False))


def _csv(report: Report) -> None:
    """figure,key,value rows: one per figure, one per channel, contact or text."""
    writer = SafeCsvWriter(sys.stdout)
    writer.writerow(["figure", "key", "value"])
    for name, value in report.figures().items():
        if isinstance(value, dict):
            for key, n in value.items():
                writer.writerow([name, key, n])
        elif isinstance(value, list):
            for item in value:
                writer.writerow([name, item["text"], item["count"]])
        else:
            writer.writerow([name, "", "" if value is None else value])


def _text(report: Report) -> None:
    f = report.figures()
    scope = f"account {f['account']}" if f["account"] else "all accounts"
    period = f"since {f['since']}" if f["since"] else "everything kept"
    lines = [
        f"invoicebot report: {scope}, {period}",
        f"requests received:        {f['requests']}",
        f"answered automatically:   {f['answered']} (support tickets avoided, estimated)",
        f"escalated to a person:    {f['escalated']}",
        f"not understood:           {f['not_understood']}",
        f"unverified / refused:     {f['unverified']} / {f['refused']}",
        f"time to retrieval:        median {_ms(f['time_to_retrieval_p50_ms'])}, "
        f"p90 {_ms(f['time_to_retrieval_p90_ms'])} ({f['replies_timed']} replies)",
        f"downloads:                {f['downloads']}",
        f"page logins:              {f['page_logins']}",
        f"disputes:                 {f['disputes']}",
        "active contacts by channel: " + (", ".join(
            f"{c} {n}" for c, n in f["active_contacts_by_channel"].items()) or "none"),
    ]
    lines += _listing("downloads per contact", f["downloads_per_contact"])
    lines += _listing("page logins per contact", f["page_logins_per_contact"])
    lines += _listing("most frequent requests not understood",
                      {i["text"]: i["count"] for i in f["top_not_understood"]})
    print("\n".join(lines))


def _listing(title: str, counts: dict[str, int]) -> list[str]:
    if not counts:
        return []
    return [f"{title}:", *(f"  {n:>5}  {key}" for key, n in counts.items())]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"
