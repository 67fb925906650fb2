"""Runs the benchmark: `python -m tests.bench` (what each part measures: tests/bench/__init__)."""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import datetime

from rich.table import Table

from tests import bench
from tests.bench.common import ROOT, Column, Rows, console, loopback_only, machine, run_isolated
from tests.bench.pdf import pdf_bench

PARTS = ("email", "alerts", "ingest", "pdf")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=bench.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="run only this part (repeatable); default: all")
    parser.add_argument("--pg", metavar="URL", help="also run on PostgreSQL (databases "
                        "invoicebot_bench_* are created next to URL's)")
    email = parser.add_argument_group("email")
    email.add_argument("--invoices", type=int, default=1_000_000)
    email.add_argument("--accounts", type=int, default=20_000)
    email.add_argument("--requests", type=int, default=300, help="latency requests")
    email.add_argument("--burst", type=int, default=300, help="accept-rate messages")
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
    pdf = parser.add_argument_group("pdf")
    pdf.add_argument("--no-pdf", action="store_true", help="skip the pdf part")
    pdf.add_argument("--pdf-renders", type=int, default=40, help="renders per figure")
    args = parser.parse_args(argv)
    args.parts = set(args.only or PARTS) - ({"pdf"} if args.no_pdf else set())
    return args


def report(columns: dict[str, Column], pdf: Rows, load_at_start: tuple[float, ...]) -> None:
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
    if "email" in args.parts:
        rows, profile = await run_isolated("tests.bench.mail", label, args)
    if "alerts" in args.parts:
        rows += (await run_isolated("tests.bench.alerts", label, args))[0]
    if "ingest" in args.parts:
        rows += (await run_isolated("tests.bench.ingest", label, args))[0]
    return rows, profile


async def main(args: argparse.Namespace) -> None:
    load_at_start = os.getloadavg()
    loopback_only()
    ROOT.mkdir(parents=True, exist_ok=True)
    columns = {"sqlite": await column("sqlite", args)}
    if args.pg:
        columns["postgresql"] = await column("postgresql", args)
    pdf = await pdf_bench(args.pdf_renders) if "pdf" in args.parts else []
    report(columns, pdf, load_at_start)


if __name__ == "__main__":
    started = datetime.now()
    asyncio.run(main(parse_args()))
    console.log(f"bench finished in {(datetime.now() - started).total_seconds():.0f} s")
