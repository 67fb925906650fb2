"""Runs the benchmark: `python -m tests.bench` (what each part measures: tests/bench/__init__).
Exits 1 when a part failed (its row says "error"), so the suite's tiny run of each part
(tests/test_bench.py) fails with it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime

from rich.table import Table

from tests import bench
from tests.bench.common import ROOT, Column, Rows, console, loopback_only, machine, run_isolated
from tests.bench.pdf import pdf_bench
from tests.bench.storage import add_arguments as storage_arguments

# Parts run per database, each in a process of its own: the module with backend().
PER_DATABASE = {"email": "tests.bench.mail", "alerts": "tests.bench.alerts",
                "ingest": "tests.bench.ingest", "load": "tests.bench.load"}
PARTS = (*PER_DATABASE, "pdf", "storage")  # pdf and storage: one column


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=bench.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="run only this part (repeatable); default: all")
    parser.add_argument("--pg", metavar="URL", help="also run on PostgreSQL (databases "
                        "invoicebot_bench_* are created next to URL's)")
    parser.add_argument("--no-sqlite", action="store_true",
                        help="with --pg: the PostgreSQL column only")
    parser.add_argument("--tag", default="", help="suffix for the PostgreSQL databases' "
                        "names, so runs side by side do not share them")
    email = parser.add_argument_group("email")
    email.add_argument("--invoices", type=int, default=1_000_000)
    email.add_argument("--accounts", type=int, default=20_000)
    email.add_argument("--requests", type=int, default=300, help="latency requests")
    email.add_argument("--burst", type=int, default=300, help="accept-rate messages")
    email.add_argument("--sessions", type=int, default=20,
                       help="accept rate: SMTP sessions sending the burst at once")
    email.add_argument("--seed", type=int, default=1)
    email.add_argument("--rebuild", action="store_true", help="rebuild the cached vault")
    email.add_argument("--profile", action="store_true",
                       help="cProfile the service during the latency phase (var/bench/)")
    email.add_argument("--gc-freeze", action="store_true", help="experiment: gc.freeze() "
                       "after Service.start() (start-up objects out of every collection)")
    email.add_argument("--timeout", type=float, default=10.0, help="per reply, seconds")
    email.add_argument("--drain", type=float, default=180.0, help="burst answers, seconds")
    alerts = parser.add_argument_group("alerts")
    alerts.add_argument("--alerts", type=int, default=50_000, help="alerts enqueued and sent")
    alerts.add_argument("--alerts-baseline", type=int, default=5_000,
                        help="alerts for the baseline (one at a time is slow)")
    ingest = parser.add_argument_group("ingest")
    ingest.add_argument("--ingest-count", type=int, default=1000, metavar="N",
                        help="invoices per row with PDFs off (API in batches of 1,000)")
    ingest.add_argument("--ingest-pdf-count", type=int, default=100, metavar="N",
                        help="invoices per row with PDFs on (rendering takes most of it)")
    ingest.add_argument("--history-count", type=int, default=100_000, metavar="N",
                        help="history invoices (issued over a year ago) through the API, "
                        "timed until all are found by number and a sample downloads; 0: skip")
    ingest.add_argument("--history-sample", type=int, default=20, metavar="N",
                        help="PDFs of the history asked for and downloaded")
    load = parser.add_argument_group("load")
    load.add_argument("--load-requests", type=int, default=10_000, metavar="N",
                      help="requests sent in all")
    load.add_argument("--load-sessions", type=int, default=20, metavar="N",
                      help="concurrent SMTP sessions")
    load.add_argument("--load-instances", type=int, default=3, metavar="N",
                      help="`serve` processes on PostgreSQL (SQLite: always 1)")
    load.add_argument("--load-invoices", type=int, default=2_000, metavar="N",
                      help="invoices in the load test's vault (each with its PDF)")
    load.add_argument("--load-accounts", type=int, default=100, metavar="N")
    load.add_argument("--load-down", type=float, default=2.0, metavar="S",
                      help="seconds the killed instance stays down")
    load.add_argument("--load-drain", type=float, default=600.0, metavar="S",
                      help="seconds to wait for every accepted message's reply")
    pdf = parser.add_argument_group("pdf")
    pdf.add_argument("--no-pdf", action="store_true", help="skip the pdf part")
    pdf.add_argument("--pdf-renders", type=int, default=40, help="renders per figure")
    storage_arguments(parser)
    args = parser.parse_args(argv)
    args.parts = set(args.only or PARTS) - ({"pdf"} if args.no_pdf else set())
    return args


def report(columns: dict[str, Column], pdf: Rows, load_at_start: tuple[float, ...],
           storage: Rows) -> None:
    table = Table(title="invoicebot benchmark (make bench)")
    table.add_column("figure")
    for label in columns:
        table.add_column(label, justify="right")
    values = [dict(rows) for rows, _ in columns.values()]
    names = list(dict.fromkeys(name for rows, _ in columns.values() for name, _ in rows))
    for name in names:
        table.add_row(name, *(v.get(name, "") for v in values))
    blanks = [""] * (len(columns) - 1)
    for name, value in pdf:
        table.add_row(f"pdf: {name}", value, *blanks)
    for name, value in storage:  # its own pair of figures: folder / S3, on SQLite
        table.add_row(name, value, *blanks)
    for name, value in machine(load_at_start):
        table.add_row(f"machine: {name}", value, *blanks)
    console.print(table)
    for label, (_, profile) in columns.items():
        if profile:
            console.print(f"profile of the latency phase ({label}): {profile}")


async def column(label: str, args: argparse.Namespace) -> Column:
    """One database's figures: each part in a process of its own."""
    rows: Rows = []
    profile = ""
    for part, module in PER_DATABASE.items():
        if part in args.parts:
            part_rows, part_profile = await run_isolated(module, label, args)
            rows += part_rows
            profile = profile or part_profile
    return rows, profile


def failed(columns: dict[str, Column], *single: Rows) -> bool:
    return any(name == "error" for rows, _ in columns.values() for name, _ in rows) or \
        any(name == "error" for rows in single for name, _ in rows)


async def main(args: argparse.Namespace) -> int:
    load_at_start = os.getloadavg()
    loopback_only()
    ROOT.mkdir(parents=True, exist_ok=True)
    columns = {} if args.pg and args.no_sqlite else {"sqlite": await column("sqlite", args)}
    if args.pg:
        columns["postgresql"] = await column("postgresql", args)
    pdf = await pdf_bench(args.pdf_renders) if "pdf" in args.parts else []
    storage: Rows = []
    if "storage" in args.parts:
        storage = (await run_isolated("tests.bench.storage", "sqlite", args))[0]
    report(columns, pdf, load_at_start, storage)
    return 1 if failed(columns, pdf, storage) else 0


if __name__ == "__main__":
    started = datetime.now()
    status = asyncio.run(main(parse_args()))
    console.log(f"bench finished in {(datetime.now() - started).total_seconds():.0f} s"
                + (" with a failed part (see its error row)" if status else ""))
    sys.exit(status)
