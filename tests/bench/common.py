"""What every part of the benchmark shares: where it keeps its files, the console, the
loopback guard, percentiles, the machine's description, and running one database's
part in a process of its own."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import ipaddress
import math
import multiprocessing
import os
import platform
import socket
import sqlite3
import subprocess
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rich.console import Console

REPO = Path(__file__).parents[2]
# Where the bench keeps its vaults, logs and profiles; the suite's tiny runs point
# BENCH_DIR at a temporary folder (tests/test_bench.py).
ROOT = Path(os.environ.get("BENCH_DIR") or REPO / "var" / "bench")
# Wide enough for the table when output goes to a file or through make.
console = Console(highlight=False, log_path=False,
                  width=None if os.isatty(1) else 120)
Rows = list[tuple[str, str]]  # (figure, value), one column of the table
Column = tuple[Rows, str]  # the rows and the path of a profile ("" for none)


# ---- loopback only --------------------------------------------------------------------------

def loopback_only() -> None:
    """Refuse any connection beyond loopback from this process (and its load generator)."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else "localhost"
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise OSError(f"bench: refusing to connect beyond loopback: {address!r}")
        return real_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms3(values: list[float], scale: float = 1000) -> str:
    v = [x * scale for x in values]
    return f"{pct(v, 50):.1f} / {pct(v, 99):.1f} / {max(v, default=math.nan):.1f}"


def p5099(values: list[float]) -> str:
    return f"{pct(values, 50):.1f} / {pct(values, 99):.1f}"


def machine(load_at_start: tuple[float, ...]) -> list[tuple[str, str]]:
    """Where the figures come from; the load average shows other work on the machine."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    load = "{:.2f} / {:.2f} / {:.2f}"
    return [("git commit", commit()),
            ("nproc", str(os.cpu_count())), ("CPU", cpu), ("RAM", f"{mem / 2**20:.1f} GiB"),
            ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
            ("SQLite library", sqlite3.sqlite_version),
            ("load average 1/5/15 min, at start", load.format(*load_at_start)),
            ("load average 1/5/15 min, at end", load.format(*os.getloadavg()))]


def commit() -> str:
    """The commit measured, and whether the work tree differed from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True,
                              text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return head + (" (with uncommitted changes)" if changed else "")


def _isolated_main(module: str, label: str, args: argparse.Namespace,
                   conn: Connection) -> None:
    loopback_only()
    try:
        conn.send(("ok", asyncio.run(importlib.import_module(module).backend(label, args))))
    except BaseException:
        conn.send(("error", traceback.format_exc()))


async def run_isolated(module: str, label: str, args: argparse.Namespace) -> Column:
    """`module.backend(label, args)` in a process of its own: Tortoise caches each
    model's SQL, so a second backend in one process would run the first one's dialect
    (PostgreSQL was sent SQLite's `?` placeholders). A failure becomes an error row."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_isolated_main, args=(module, label, args, child),
                              name=f"{module}:{label}")
    process.start()
    try:
        status, value = await asyncio.to_thread(parent.recv)
    except EOFError:
        status, value = "error", f"the {label} process died (exit code {process.exitcode})"
    await asyncio.to_thread(process.join)
    if status == "ok":
        return value  # type: ignore[no-any-return]
    console.print(f"{module} ({label}) failed:\n{value}")
    return [("error", str(value).strip().splitlines()[-1][:100])], ""


