"""One clock: nothing in bot/, vault/ or notifier/ reads the time except vault/clock.py.

Every other module takes a Clock (or a `now`/`today` argument) from its caller, so the
service's one clock, a test's FixedClock or `invoicebot ask --today`'s past day reaches
everything. Monotonic timers (time.monotonic(), time.perf_counter()) only measure how
long something takes, never what time it is: pacing, rate limits and request timings may
use them.

And the system clock itself (vault.clock.SYSTEM) is chosen only where a process starts:
the service's default, the command line, and the audit trail (stamped with when things
really happened, whatever day a request is answered as of).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from vault.clock import SYSTEM, FixedClock

ROOT = Path(__file__).parent.parent
PACKAGES = ("bot", "vault", "notifier")
CLOCK_MODULE = Path("vault/clock.py")
# Reading what time it is: datetime.now(), date.today(), time.time(), ...
WALL_CLOCK = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime"),
    ("time", "ctime"), ("timezone", "now"),  # tortoise.timezone.now()
}
BARE = {"utcnow", "today_in"}  # the helpers vault/timeutil.py used to have
SYSTEM_USERS = {Path("bot/service.py"), Path("bot/commands_cli.py"), Path("bot/cli_notify.py"),
                Path("bot/cli_apikey.py"), Path("bot/cli_chat.py"), Path("bot/cli_stripe.py"),
                Path("bot/cli_backup.py"), Path("bot/cli_access.py"),
                Path("vault/audit.py")}


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            yield relative, ast.parse(path.read_text(encoding="utf-8"), str(relative))


def _name(node: ast.expr) -> str:
    """"datetime" for datetime.now and for dt.datetime.now; "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def wall_clock_reads(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and (_name(func.value), func.attr) in WALL_CLOCK:
            yield node.lineno, f"{_name(func.value)}.{func.attr}()"
        elif isinstance(func, ast.Name) and func.id in BARE:
            yield node.lineno, f"{func.id}()"
    for node in ast.walk(tree):  # `from datetime import datetime as dt` would hide it
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "vault.timeutil"):
            for alias in node.names:
                if node.module == "vault.timeutil" or alias.name in ("time", "time_ns"):
                    yield node.lineno, f"from {node.module} import {alias.name}"


def test_nothing_reads_the_time_but_the_clock_module() -> None:
    found = [f"{path}:{line}: {what}"
             for path, tree in sources() if path != CLOCK_MODULE
             for line, what in sorted(wall_clock_reads(tree))]
    assert not found, "read the time from a Clock (vault.clock) instead:\n" + "\n".join(found)


def test_the_system_clock_is_chosen_only_where_a_process_starts() -> None:
    found = [f"{path}:{node.lineno}: SYSTEM"
             for path, tree in sources() if path not in SYSTEM_USERS | {CLOCK_MODULE}
             for node in ast.walk(tree)
             if (isinstance(node, ast.Name) and node.id == "SYSTEM")
             or (isinstance(node, ast.alias) and node.name == "SYSTEM")]
    assert not found, "take the service's clock instead of the system one:\n" + "\n".join(found)


def test_the_scan_finds_what_it_looks_for() -> None:
    tree = ast.parse("import datetime as d\nfrom time import time\n"
                     "a = datetime.now(UTC)\nb = d.date.today()\nc = utcnow()\n"
                     "d = time.monotonic()\ne = clock.now()\n")
    assert sorted(line for line, _ in wall_clock_reads(tree)) == [2, 3, 4, 5]


def test_a_fixed_clock_on_a_past_day_answers_as_of_it() -> None:
    from datetime import date

    day = date(2026, 3, 15)
    past = FixedClock.on(day, past=True)
    assert past.as_of == day == past.today("Asia/Tokyo") == past.today("America/Los_Angeles")
    assert FixedClock.on(day).as_of is None and SYSTEM.as_of is None
