"""`make bench`: the email path end to end at scale and PDF throughput, in one run.

    make bench                                  # 1M invoices, 20k accounts, SQLite
    make bench ARGS="--rebuild"                 # build the cached vault again
    make bench ARGS="--pg postgres://postgres@127.0.0.1:5432/postgres"   # + PostgreSQL
    .venv/bin/python -m tests.bench --help

A benchmark, not a test: it prints one table of figures and asserts nothing. Loopback only.

email   Per database, in a process of its own: the vault (tests/bench_data.py, cached in
        var/bench/), then the real Service (bot.service) with its outbound relay pointed
        at a sink. A load generator process holds a real SMTP client (smtplib) and that
        sink (aiosmtpd), so both timestamps come from one clock.
        latency: N authenticated requests ("invoices March" / "invoice INV-..."
          alternating) from random accounts, one at a time; per request, from the client
          getting 250 for DATA to the reply being accepted by the sink. The stages come
          from the rows' own timestamps; the CPU row says how busy this machine was with
          other work meanwhile (figures from a busy machine are not comparable).
        largest account: the same for the account with the most invoices.
        accept rate: the same client sends a burst over one connection, first to a no-op
          aiosmtpd receiver (same server set-up, handler returns 250), then to ours (commits
          before 250 while answering what came before); then how long the answers take.
pdf     tests.bench_pdf.run(n), when present: renders/second next to plain WeasyPrint.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import gc
import importlib.util
import ipaddress
import math
import multiprocessing
import os
import platform
import pstats
import smtplib
import socket
import sqlite3
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from email.parser import BytesHeaderParser
from email.policy import SMTP as SMTP_POLICY
from email.policy import compat32
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

from aiosmtpd.smtp import SMTP, Envelope, Session
from rich.console import Console
from rich.table import Table

from tests import bench_data
from tests.bench_data import Ask, Shape, Vault

ROOT = Path(__file__).parents[1] / "var" / "bench"
RECIPIENT = "invoices@localhost"
WARMUP = 10
LARGEST = 5  # requests from the account with the most invoices
# Wide enough for the table when output goes to a file or through make.
console = Console(highlight=False, log_path=False,
                  width=None if os.isatty(1) else 120)


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


# ---- the load generator: a real SMTP client and the outbound sink, in their own process ----

class Mail(NamedTuple):
    """Crosses to the load generator as a plain tuple (pickles whatever __main__ is)."""

    key: str  # the Message-ID; the reply's In-Reply-To
    sender: str
    raw: bytes


class Sink:
    """The outbound relay: accepts everything and timestamps each reply by In-Reply-To."""

    def __init__(self) -> None:
        self.arrived: dict[str, tuple[float, float]] = {}  # key -> (perf_counter, wall)
        self.changed = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.headers = BytesHeaderParser(policy=compat32)

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(self.loop.create_server(
                lambda: SMTP(self, hostname="sink.bench", ident="bench-sink", loop=self.loop),
                "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, name="sink", daemon=True).start()
        ready.wait()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        at = (time.perf_counter(), time.time())
        headers = self.headers.parsebytes(envelope.original_content or b"", headersonly=True)
        with self.changed:
            self.arrived[str(headers.get("In-Reply-To", "")).strip()] = at
            self.changed.notify_all()
        return "250 2.0.0 OK"

    def wait(self, key: str, deadline: float) -> tuple[float, float] | None:
        with self.changed:
            self.changed.wait_for(lambda: key in self.arrived,
                                  max(0.0, deadline - time.perf_counter()))
            return self.arrived.get(key)


def _client(port: int) -> smtplib.SMTP:
    # local_hostname: the default, socket.getfqdn(), may wait on DNS.
    smtp = smtplib.SMTP("127.0.0.1", port, local_hostname="client.bench", timeout=60)
    smtp.ehlo()
    return smtp


def _send(smtp: smtplib.SMTP, mail: Mail) -> tuple[float, float]:
    """One transaction; returns (DATA sent, 250 received) as perf_counter times."""
    for code, answer in (smtp.mail(mail.sender), smtp.rcpt(RECIPIENT)):
        if code != 250:
            raise smtplib.SMTPResponseException(code, answer)
    start = time.perf_counter()
    code, answer = smtp.data(mail.raw)
    if code != 250:
        raise smtplib.SMTPDataError(code, answer)
    return start, time.perf_counter()


def closed_loop(sink: Sink, port: int, mails: list[tuple[str, str, bytes]],
                timeout: float) -> list[Any]:
    """One request at a time: send, wait for its reply at the sink, next.
    Per mail: (DATA->250 s, 250->reply s or None, wall time of the 250, wall of arrival)."""
    results = []
    with _client(port) as smtp:
        for mail in map(Mail._make, mails):
            start, accepted = _send(smtp, mail)
            wall = time.time()
            arrival = sink.wait(mail.key, accepted + timeout)
            results.append((accepted - start, arrival[0] - accepted if arrival else None,
                            wall, arrival[1] if arrival else None))
    return results


def burst(sink: Sink, port: int, mails: list[tuple[str, str, bytes]]) -> tuple[float, list[float]]:
    """All mails back to back over one connection; (seconds, perf time of each 250)."""
    accepted = []
    with _client(port) as smtp:
        started = time.perf_counter()
        for mail in map(Mail._make, mails):
            accepted.append(_send(smtp, mail)[1])
        return time.perf_counter() - started, accepted


def collect(sink: Sink, keys: list[str], timeout: float) -> list[float | None]:
    deadline = time.perf_counter() + timeout
    return [(at[0] if (at := sink.wait(key, deadline)) else None) for key in keys]


def _loadgen(conn: Connection) -> None:
    loopback_only()
    sink = Sink()
    sink.start()
    conn.send(sink.port)
    commands = {"closed_loop": closed_loop, "burst": burst, "collect": collect}
    while (command := conn.recv()) is not None:
        name, args = command
        try:
            conn.send(("ok", commands[name](sink, *args)))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class LoadGen:
    def __init__(self) -> None:
        # By module name, so the child can find it also when this file runs as __main__.
        from tests.bench import _loadgen as target

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=target, args=(child,), name="loadgen",
                                       daemon=True)
        self.process.start()
        self.sink_port: int = self.conn.recv()

    async def call(self, name: str, *args: object) -> Any:
        plain = tuple([tuple(m) if isinstance(m, Mail) else m for m in a]
                      if isinstance(a, list) else a for a in args)

        def roundtrip() -> tuple[str, Any]:
            self.conn.send((name, plain))
            return self.conn.recv()  # type: ignore[no-any-return]

        status, value = await asyncio.to_thread(roundtrip)
        if status != "ok":
            raise RuntimeError(f"load generator, {name}: {value}")
        return value

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(10)


# ---- the service side -------------------------------------------------------------------------

class NoopHandler:
    """The baseline receiver: aiosmtpd's own cost, nothing stored."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 2.0.0 OK"


def bench_today(_tz: str) -> date:
    return bench_data.TODAY


def service_config(url: str, sink_port: int) -> Any:
    from vault.config import load_config

    env = {
        "INVOICEBOT_DATABASE_URL": url,
        "INVOICEBOT_VAULT_PATH": str(ROOT / "vault"),
        "INVOICEBOT_EMAIL_OUTBOUND": f"smtp://127.0.0.1:{sink_port}",
        "INVOICEBOT_EMAIL_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_HTTP_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_EMAIL_TRUSTED_RELAYS": "127.0.0.1/32",
        "INVOICEBOT_SECRET_KEYS": "bench-" + "k" * 40,
    }
    return load_config(ROOT / "no-such-config.toml", env=env)  # defaults + env only


def mails(asks: list[Ask]) -> list[Mail]:
    from tests.harness import request_mail

    out = []
    for ask in asks:
        msg = request_mail(ask.sender, ask.text)
        out.append(Mail(str(msg["Message-ID"]), ask.sender,
                        msg.as_bytes(policy=SMTP_POLICY)))
    return out


@dataclass
class Result:
    label: str
    vault: Vault
    new_documents: int = 0
    documents_seconds: float = 0.0
    service_start: float = 0.0
    asks: list[Ask] = field(default_factory=list)
    latency: list[Any] = field(default_factory=list)  # closed_loop() rows
    largest: list[Any] = field(default_factory=list)  # closed_loop() rows, largest account
    stages: list[tuple[float, float, float] | None] = field(default_factory=list)
    noop: tuple[float, list[float]] = (0.0, [])
    ours: tuple[float, list[float]] = (0.0, [])
    answered: list[float | None] = field(default_factory=list)
    profile: str = ""
    outcomes: str = ""  # how the service says it handled the measured requests
    watch: list[tuple[str, str]] = field(default_factory=list)  # Watch.summary()
    busy_elsewhere: float = 0.0  # CPU cores other processes used during the latency phase


async def prepare(url: str, result: Result, args: argparse.Namespace, config: Any) -> None:
    from vault import db

    await db.migrate(url)
    await db.connect(url)
    try:
        await bench_data.reset_run_tables()
        result.asks = await bench_data.plan(shape_of(args), WARMUP + args.requests + args.burst,
                                            args.seed)
        result.asks += await bench_data.plan_largest(LARGEST)
        result.new_documents, result.documents_seconds = await bench_data.ensure_documents(
            result.asks, config, os.cpu_count() or 1)
    finally:
        await db.close()


async def email_bench(result: Result, url: str, args: argparse.Namespace,
                      gen: LoadGen) -> Result:
    from bot.channels.email import start_smtp_server
    from bot.service import Service

    config = service_config(url, gen.sink_port)
    console.log(f"{result.label}: planning requests; PDFs for the invoices they ask for")
    await prepare(url, result, args, config)
    all_mails = mails(result.asks)
    warm, measured = all_mails[:WARMUP], all_mails[WARMUP:WARMUP + args.requests]
    bursty = all_mails[WARMUP + args.requests:-LARGEST]
    largest = all_mails[-LARGEST:]
    service = Service(config, today=bench_today)
    started = time.perf_counter()
    await service.start()
    result.service_start = time.perf_counter() - started
    if args.gc_freeze:  # an experiment: what gc.freeze() after start-up would change
        gc.collect()
        gc.freeze()
    noop = await start_smtp_server(config.email, NoopHandler())
    try:
        await gen.call("closed_loop", service.smtp_port, warm, args.timeout)
        console.log(f"{result.label}: latency: {len(measured)} requests, one at a time")
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        pids = {"service": [os.getpid()], "load generator": [gen.process.pid or 0],
                "database server": await database_pids()}
        with Watch(pids) as watch:
            result.latency = await gen.call("closed_loop", service.smtp_port, measured,
                                            args.timeout)
        result.watch, result.busy_elsewhere = watch.summary(), watch.other_cores()
        if profiler:
            profiler.disable()
            result.profile = save_profile(profiler, result.label)
        result.stages = await stages(measured, result.latency)
        result.outcomes = await outcomes(measured)
        result.largest = await gen.call("closed_loop", service.smtp_port, largest, args.timeout)
        console.log(f"{result.label}: accept rate: {len(bursty)} messages, no-op then ours")
        noop_port = noop.sockets[0].getsockname()[1]
        result.noop = await gen.call("burst", noop_port, bursty)
        result.ours = await gen.call("burst", service.smtp_port, bursty)
        result.answered = await gen.call("collect", [m.key for m in bursty], args.drain)
    finally:
        noop.close()
        try:
            await asyncio.wait_for(service.stop(), 30)
        except TimeoutError:
            console.log(f"{result.label}: Service.stop() did not finish within 30 s")
    return result


class Watch:
    """What else went on during a phase: this process's GC pauses, and who used the CPUs
    (this process, the load generator, our database server processes, everything else on
    the machine, the hypervisor's steal)."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.pauses: list[float] = []
        self._gc_started = 0.0

    def __enter__(self) -> Watch:
        gc.callbacks.append(self._gc)
        self.before, self.started = self._cpu(), time.perf_counter()
        self.lags: list[float] = []
        self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._gc)
        self._ticker.cancel()
        self.after, self.elapsed = self._cpu(), time.perf_counter() - self.started

    async def _tick(self, period: float = 0.005) -> None:
        """How late a 5 ms timer fires: the time the event loop was blocked (CPU, GC),
        as opposed to time a request spent waiting (on SQLite's thread, the network)."""
        while True:
            due = time.perf_counter() + period
            await asyncio.sleep(period)
            self.lags.append(time.perf_counter() - due)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._gc_started)

    def _cpu(self) -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
        out = {"busy": (user + nice + system + irq + softirq) / tick, "steal": steal / tick}
        for name, pids in self.pids.items():
            for pid in pids:
                with contextlib.suppress(OSError):  # gone: counted in "busy" only
                    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                    out[f"{name}:{pid}"] = (int(stat[11]) + int(stat[12])) / tick
        return out

    def used(self) -> dict[str, float]:
        """Cores used during the phase, per name in self.pids, plus busy and steal."""
        out = {"busy": 0.0, "steal": 0.0, **{name: 0.0 for name in self.pids}}
        for key in self.before.keys() & self.after.keys():
            out[key.partition(":")[0]] += (self.after[key] - self.before[key]) / self.elapsed
        return out

    def other_cores(self) -> float:
        used = self.used()
        return max(used["busy"] - sum(used[name] for name in self.pids), 0.0)

    def summary(self) -> list[tuple[str, str]]:
        used, other = self.used(), self.other_cores()
        return [
            ("  CPU cores used: " + " / ".join(self.pids) + " / other processes / steal",
             " / ".join(f"{used[name]:.2f}" for name in self.pids)
             + f" / {other:.2f} / {used['steal']:.2f}"),
            ("  GC pauses in the service process: count, max ms",
             f"{len(self.pauses)}, {max(self.pauses, default=0) * 1000:.1f}"),
            ("  event loop blocked > 20 ms: count, max ms",
             f"{sum(lag > 0.02 for lag in self.lags)}, {max(self.lags, default=0) * 1000:.1f}"),
        ]


async def database_pids() -> list[int]:
    """PostgreSQL backends serving our (benchmark-only) database; none for SQLite."""
    from tortoise import connections

    conn = connections.get("default")
    if conn.capabilities.dialect != "postgres":
        return []
    rows = await conn.execute_query_dict(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return [int(row["pid"]) for row in rows]


async def stages(measured: list[Mail], rows: list[Any]) -> list[tuple[float, float, float] | None]:
    """Where each request's 250->reply time went, from the rows' own timestamps (wall
    clock, ms): 250 -> reply queued (inbox + pipeline; processed_at), queued -> claimed by
    the delivery loop (outbox sent_at is the claim time), claimed -> accepted by the relay."""
    from vault.models import InboundMessage, OutboxMessage

    keys = [m.key.strip("<>") for m in measured]
    inbound = {r.message_key: r for r in await InboundMessage.filter(message_key__in=keys)}
    outbox = {r.key: r for r in await OutboxMessage.filter(
        key__in=[f"email-reply:{k}" for k in keys])}
    out: list[tuple[float, float, float] | None] = []
    for key, (_, _, wall_250, wall_arrival) in zip(keys, rows, strict=True):
        msg, reply = inbound.get(key), outbox.get(f"email-reply:{key}")
        if not (msg and reply and msg.processed_at and reply.sent_at and wall_arrival):
            out.append(None)
            continue
        processed, claimed = msg.processed_at.timestamp(), reply.sent_at.timestamp()
        out.append(((processed - wall_250) * 1000, (claimed - processed) * 1000,
                    (wall_arrival - claimed) * 1000))
    return out


async def outcomes(measured: list[Mail]) -> str:
    from vault.models import InboundMessage

    found = await InboundMessage.filter(message_key__in=[m.key.strip("<>") for m in measured]) \
        .values_list("outcome", flat=True)
    return ", ".join(f"{k}: {v}" for k, v in sorted(Counter(found).items()))


def save_profile(profiler: cProfile.Profile, label: str) -> str:
    path = ROOT / f"profile-{label}.pstats"
    profiler.dump_stats(path)
    text = ROOT / f"profile-{label}.txt"
    with text.open("w") as handle:
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
    return str(text)


# ---- figures ----------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms3(values: list[float], scale: float = 1000) -> str:
    v = [x * scale for x in values]
    return f"{pct(v, 50):.1f} / {pct(v, 99):.1f} / {max(v, default=math.nan):.1f}"


def rows_of(r: Result, args: argparse.Namespace) -> list[tuple[str, str]]:
    measured = r.asks[WARMUP:WARMUP + args.requests]
    lat = [row[1] for row in r.latency]
    done = [x for x in lat if x is not None]
    by_kind = {kind: [x for a, x in zip(measured, lat, strict=True) if a.kind == kind and x]
               for kind in ("month", "number")}
    listed = [len(a.invoice_ids) for a in measured if a.kind == "month"]
    noop_s, _ = r.noop
    ours_s, ours_at = r.ours
    answered = [a - s for a, s in zip(r.answered, ours_at, strict=True) if a is not None]
    bursty = len(ours_at)
    started = ours_at[-1] - ours_s if ours_at else 0.0  # the burst's first MAIL FROM
    drain = max((a for a in r.answered if a is not None), default=math.nan) - started
    p99 = pct(done, 99) * 1000
    verdict = "met" if p99 < 100 else f"NOT met (p99 {p99:.0f} ms)"
    if r.busy_elsewhere > 0.25:
        verdict += f"; machine busy: other processes used {r.busy_elsewhere:.2f} cores"
    build = f"{r.vault.build_seconds:.1f} s" + (
        " (built now)" if r.vault.built_now else " (cached; --rebuild to redo)")
    largest = [row[1] for row in r.largest if row[1] is not None]
    largest_rows = len(r.asks[-1].invoice_ids) if r.asks else 0
    return [
        ("vault", f"{args.invoices:,} invoices, {args.accounts:,} accounts and contacts"),
        ("  stored as", r.vault.size),
        ("vault build", build),
        ("PDF documents added this run", f"{r.new_documents} in {r.documents_seconds:.1f} s"),
        ("service start (migrate, overdue sweep)", f"{r.service_start:.2f} s"),
        ("requests, one at a time", f"{len(lat)} ({len(lat) - len(done)} unanswered)"),
        ("  outcomes (inbound_message.outcome)", r.outcomes),
        ("250 -> reply at relay, ms p50/p99/max", ms3(done)),
        ("  'invoices March' ms p50/p99/max", ms3(by_kind["month"])),
        ("  'invoice INV-...' ms p50/p99/max", ms3(by_kind["number"])),
        ("  invoices per March reply p50/max", f"{pct(listed, 50):.0f} / {max(listed, default=0)}"),
        (f"largest account, 'invoices March' ({largest_rows} rows), ms p50/max",
         f"{pct(largest, 50) * 1000:.1f} / {max(largest, default=math.nan) * 1000:.1f}"),
        *((f"  stage: {name}, ms p50/p99", p5099([st[i] for st in r.stages if st]))
          for i, name in enumerate(STAGES)),
        *slowest(r, measured),
        *r.watch,
        ("DATA -> 250 (ours, idle), ms p50/p99/max", ms3([row[0] for row in r.latency])),
        ("accept rate, no-op aiosmtpd, msg/s", f"{bursty / noop_s:.0f}" if noop_s else "-"),
        ("accept rate, ours, msg/s", f"{bursty / ours_s:.0f}" if ours_s else "-"),
        (f"burst of {bursty}: all answered after, s", f"{drain:.1f} "
         f"({len(answered)}/{bursty} answered, {len(answered) / drain:.0f} replies/s)"),
        ("  burst 250 -> reply, ms p50/p99", p5099([x * 1000 for x in answered])),
        ("target: p99 < 100 ms", verdict),
    ]


STAGES = ("250 -> reply queued", "queued -> claimed", "claimed -> at relay")


def slowest(r: Result, measured: list[Ask], count: int = 3) -> list[tuple[str, str]]:
    """The slowest requests, with their stages: what a p99 is made of."""
    timed = [(row[1], ask, st) for row, ask, st in zip(r.latency, measured, r.stages,
                                                        strict=True) if row[1] is not None]
    out = []
    for n, (seconds, ask, st) in enumerate(sorted(timed, key=lambda t: -t[0])[:count], 1):
        parts = " + ".join(f"{x:.0f}" for x in st) if st else "?"
        out.append((f"  slowest #{n}, ms (= stages)",
                    f"{seconds * 1000:.0f} (= {parts}) {ask.kind}, {len(ask.invoice_ids)} listed,"
                    f" account {ask.account}"))
    return out


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
    return [("nproc", str(os.cpu_count())), ("CPU", cpu), ("RAM", f"{mem / 2**20:.1f} GiB"),
            ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
            ("SQLite library", sqlite3.sqlite_version),
            ("load average 1/5/15 min, at start", load.format(*load_at_start)),
            ("load average 1/5/15 min, at end", load.format(*os.getloadavg()))]


def report(columns: dict[str, tuple[list[tuple[str, str]], str]],
           pdf: list[tuple[str, str]], load_at_start: tuple[float, ...]) -> None:
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


# ---- pdf --------------------------------------------------------------------------------------

PDF_LABELS = {
    "pool_per_s": "renders/s, our PdfRenderer pool",
    "ours_in_process_per_s": "renders/s, our render_invoice, 1 process",
    "plain_per_s": "renders/s, plain WeasyPrint, 1 process",
    "pool_vs_plain": "pool vs plain, x",
    "in_process_vs_plain": "ours in-process vs plain, x",
}


async def pdf_bench(renders: int) -> list[tuple[str, str]]:
    """tests/bench_pdf.py's run(n), when it exists, as rows (it runs its own event loop,
    so it runs in a thread here)."""
    if importlib.util.find_spec("tests.bench_pdf") is None:
        return [("tests/bench_pdf.py", "not present: skipped")]
    try:
        from tests import bench_pdf

        console.log(f"pdf: tests.bench_pdf.run({renders})")
        outcome = await asyncio.to_thread(bench_pdf.run, renders)
    except Exception as exc:  # someone else's module, maybe mid-edit: report, go on
        return [("tests/bench_pdf.py", f"failed: {type(exc).__name__}: {exc}"[:200])]
    if not isinstance(outcome, dict):
        return [("result", str(outcome))]
    return [(PDF_LABELS.get(str(k), str(k)), str(v)) for k, v in outcome.items()]


# ---- main -------------------------------------------------------------------------------------

def shape_of(args: argparse.Namespace) -> Shape:
    return Shape(invoices=args.invoices, accounts=args.accounts, seed=args.seed)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300, help="latency requests")
    parser.add_argument("--burst", type=int, default=300, help="accept-rate messages")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached vault")
    parser.add_argument("--pg", metavar="URL", help="also run on PostgreSQL (a database "
                        "invoicebot_bench_* is created next to URL's and kept)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the service during the latency phase (var/bench/)")
    parser.add_argument("--gc-freeze", action="store_true", help="experiment: gc.freeze() "
                        "after Service.start() (start-up objects out of every collection)")
    parser.add_argument("--no-pdf", action="store_true", help="skip tests.bench_pdf")
    parser.add_argument("--pdf-renders", type=int, default=40,
                        help="renders per figure in tests.bench_pdf")
    parser.add_argument("--timeout", type=float, default=10.0, help="per reply, seconds")
    parser.add_argument("--drain", type=float, default=180.0, help="burst answers, seconds")
    return parser.parse_args(argv)


async def backend(label: str, args: argparse.Namespace) -> tuple[list[tuple[str, str]], str]:
    """One database's email benchmark: its column of figures and its profile file."""
    shape = dataclasses.replace(shape_of(args), schema=await bench_data.schema_version(ROOT))
    console.log(f"{label}: vault of {shape.invoices:,} invoices over {shape.accounts:,} "
                "accounts (cached unless --rebuild)")
    if label == "sqlite":
        vault = await bench_data.sqlite_vault(ROOT, shape, args.rebuild)
    else:
        vault = await bench_data.pg_vault(args.pg, shape, args.rebuild)
    console.log(f"{label}: {vault.size}, " + (
        f"built in {vault.build_seconds:.1f} s" if vault.built_now else "cached"))
    gen = LoadGen()
    try:
        result = await email_bench(Result(label, vault), vault.url, args, gen)
    finally:
        gen.close()
    return rows_of(result, args), result.profile


def _backend_main(label: str, args: argparse.Namespace, conn: Connection) -> None:
    loopback_only()
    try:
        conn.send(("ok", asyncio.run(backend(label, args))))
    except BaseException:
        conn.send(("error", traceback.format_exc()))


async def run_backend(label: str, args: argparse.Namespace) -> tuple[list[tuple[str, str]], str]:
    """Each database in a process of its own: Tortoise caches each model's SQL, so a
    second backend in one process would run the first one's dialect (PostgreSQL was
    sent SQLite's `?` placeholders)."""
    from tests.bench import _backend_main as target

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(label, args, child), name=label)
    process.start()
    try:
        status, value = await asyncio.to_thread(parent.recv)
    except EOFError:
        status, value = "error", f"the {label} process died (exit code {process.exitcode})"
    await asyncio.to_thread(process.join)
    if status == "ok":
        return value  # type: ignore[no-any-return]
    console.print(f"{label} benchmark failed:\n{value}")
    return [("error", str(value).strip().splitlines()[-1][:100])], ""


async def main(args: argparse.Namespace) -> None:
    load_at_start = os.getloadavg()
    loopback_only()
    ROOT.mkdir(parents=True, exist_ok=True)
    columns = {"sqlite": await run_backend("sqlite", args)}
    if args.pg:
        columns["postgresql"] = await run_backend("postgresql", args)
    pdf = [] if args.no_pdf else await pdf_bench(args.pdf_renders)
    report(columns, pdf, load_at_start)


if __name__ == "__main__":
    started = datetime.now()
    asyncio.run(main(parse_args()))
    console.log(f"bench finished in {(datetime.now() - started).total_seconds():.0f} s")
