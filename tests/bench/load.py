"""Load and fault test: real `invoicebot serve` processes under concurrent SMTP sessions,
one of them killed with SIGKILL and restarted in the middle (see the package docstring).

Per database, in a process of its own: a small vault (data.py's builder, every invoice
with its PDF so no instance starts rendering), then --load-instances `serve` subprocesses
on PostgreSQL (one on SQLite: it is one instance by design) with their outbound relay
pointed at a sink in this process. --load-sessions SMTP sessions, spread over the
instances as an MX would, send --load-requests requests in all. When half have been
accepted, the first instance gets SIGKILL; it is started again after --load-down seconds.
A session whose connection breaks sends its message again to the next instance, with
the same Message-ID, as a sending MTA retries a message it got no 250 for.

The sink counts replies by In-Reply-To (the request's Message-ID): every message that
got a 250 must be answered exactly once. Lost ones and duplicates are counted and the
first few named; nothing is asserted, the figures say what happened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import aiosmtplib
import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.bench import data as bench_data
from tests.bench.common import ROOT, Column, Rows, console, p5099
from tests.bench.data import Ask, Shape
from tests.bench.loadgen import RECIPIENT, Mail

NAMED = 5  # lost or duplicated Message-IDs named in the figures
START_TIMEOUT = 120.0  # seconds for an instance to answer /healthz


# ---- the sink: the instances' outbound relay ------------------------------------------------

class ReplySink:
    """Counts each reply by the Message-ID it answers; keeps when the first arrived."""

    def __init__(self) -> None:
        self.replies: Counter[str] = Counter()
        self.first: dict[str, float] = {}
        self.headers = BytesHeaderParser(policy=compat32)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        headers = self.headers.parsebytes(envelope.original_content or b"", headersonly=True)
        key = str(headers.get("In-Reply-To", "")).strip()
        self.replies[key] += 1
        self.first.setdefault(key, time.perf_counter())
        return "250 2.0.0 OK"


# ---- the instances --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    """One `invoicebot serve` process; the same ports across a restart."""

    number: int
    env: dict[str, str]
    log: Path
    smtp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    rss: list[tuple[str, float]] = field(default_factory=list)  # (when, MiB)

    async def start(self) -> None:
        # The instances' settings are ours alone (any other INVOICEBOT_* variable, such as
        # the suite's test database, would be read as one of theirs, or refused).
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")}
        env = {**inherited, **self.env,
               "INVOICEBOT_EMAIL_LISTEN": f"127.0.0.1:{self.smtp_port}",
               "INVOICEBOT_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
               "INVOICEBOT_HTTP_PUBLIC_URL": f"http://127.0.0.1:{self.http_port}"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*_invoicebot(), "--config", str(self.log.parent / "load.toml"), "serve"],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        await self._healthy()

    async def _healthy(self) -> None:
        deadline = time.perf_counter() + START_TIMEOUT
        async with httpx.AsyncClient() as client:
            while time.perf_counter() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    tail = self.log.read_text(errors="replace")[-1500:]
                    raise RuntimeError(f"instance {self.number} exited "
                                       f"({self.process.returncode}):\n{tail}")
                with contextlib.suppress(httpx.HTTPError):
                    got = await client.get(f"http://127.0.0.1:{self.http_port}/healthz")
                    if got.status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"instance {self.number}: no /healthz within {START_TIMEOUT:.0f} s")

    def measure(self, when: str) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        status = Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        self.rss.append((when, kib / 1024))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(asyncio.to_thread(self.process.wait), 30)
        except TimeoutError:
            self.kill()


def _invoicebot() -> list[str]:
    script = Path(sys.executable).with_name("invoicebot")
    return [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


# ---- the senders -----------------------------------------------------------------------------

@dataclass
class Traffic:
    """What the sessions saw: per Message-ID, when its DATA went and its 250 came."""

    accepted: dict[str, tuple[float, float]] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)  # reply codes other than 250
    broken: int = 0  # sends whose connection broke (the message is sent again)
    gave_up: list[str] = field(default_factory=list)  # never accepted after every try
    half: asyncio.Event = field(default_factory=asyncio.Event)


async def session(number: int, ports: list[int], queue: asyncio.Queue[Mail],
                  traffic: Traffic, total: int, patience: float) -> None:
    """One SMTP session: sends from the queue until it is empty. A broken connection (an
    instance killed) or a 4xx sends the message again, to the next instance, for up to
    `patience` seconds; a 5xx is final."""
    at = number % len(ports)
    smtp: aiosmtplib.SMTP | None = None
    while not queue.empty():
        mail = queue.get_nowait()
        deadline = time.perf_counter() + patience
        while mail.key not in traffic.accepted and time.perf_counter() < deadline:
            try:
                if smtp is None:
                    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=ports[at],
                                           local_hostname="client.bench", timeout=60)
                    await smtp.connect()
                started = time.perf_counter()
                await smtp.sendmail(mail.sender, [RECIPIENT], mail.raw)
                traffic.accepted[mail.key] = (started, time.perf_counter())
                if len(traffic.accepted) >= total // 2:
                    traffic.half.set()
            except aiosmtplib.SMTPResponseException as exc:
                traffic.refused[str(exc.code)] += 1
                if exc.code >= 500:
                    break
                await asyncio.sleep(0.2)
            except aiosmtplib.SMTPRecipientsRefused:
                traffic.refused["RCPT"] += 1
                break
            except (aiosmtplib.SMTPException, OSError):
                traffic.broken += 1
                smtp = await _drop(smtp)
                at = (at + 1) % len(ports)
                await asyncio.sleep(0.2)
        if mail.key not in traffic.accepted:
            traffic.gave_up.append(mail.key)
    await _drop(smtp)


async def _drop(smtp: aiosmtplib.SMTP | None) -> None:
    if smtp is not None:
        with contextlib.suppress(Exception):
            if smtp.is_connected:
                await smtp.quit()
        with contextlib.suppress(Exception):
            smtp.close()
    return None


# ---- one run ---------------------------------------------------------------------------------

@dataclass
class Fault:
    killed_at: int = 0  # messages accepted when the SIGKILL came
    down: float = 0.0  # seconds from the kill until it answered /healthz again


async def fault(instance: Instance, traffic: Traffic, down: float, found: Fault) -> None:
    await traffic.half.wait()
    instance.measure("before the kill")
    found.killed_at = len(traffic.accepted)
    killed = time.perf_counter()
    instance.kill()
    await asyncio.sleep(down)
    await instance.start()
    found.down = time.perf_counter() - killed
    instance.measure("restarted")


async def drain(sink: ReplySink, traffic: Traffic, seconds: float, grace: float = 3.0
                ) -> float:
    """Wait until every accepted message has a reply (or `seconds` pass), then `grace`
    more for late duplicates; returns when the last first reply came."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and not set(traffic.accepted) <= set(sink.first):
        await asyncio.sleep(0.2)
    await asyncio.sleep(grace)
    return max(sink.first.values(), default=time.perf_counter())


def figures(label: str, instances: list[Instance], traffic: Traffic, sink: ReplySink,
            found: Fault, mails: int, seconds: float, args: argparse.Namespace) -> Rows:
    accepted = traffic.accepted
    lost = [k for k in accepted if sink.replies[k] == 0]
    twice = [k for k in accepted if sink.replies[k] > 1]
    stray = sum(n for k, n in sink.replies.items() if k not in accepted)
    to_250 = [(done - sent) * 1000 for sent, done in accepted.values()]
    to_reply = [(sink.first[k] - done) * 1000 for k, (_, done) in accepted.items()
                if k in sink.first]
    refused = ", ".join(f"{c}: {n}" for c, n in sorted(traffic.refused.items())) or "none"
    p = "load: "
    return [
        (p + "instances / SMTP sessions / requests", f"{len(instances)} on {label} / "
         f"{args.load_sessions} / {mails}"),
        (p + "accepted (250) / never accepted", f"{len(accepted)} / {len(traffic.gave_up)}"),
        (p + "sends that found no instance (sent again) / refused codes", f"{traffic.broken} / "
         f"{refused}"),
        (p + "answered exactly once", f"{len(accepted) - len(lost) - len(twice)}"),
        (p + "lost (accepted, never answered)", _named(lost)),
        (p + "duplicates (answered more than once)", _named(twice, sink.replies)),
        (p + "replies to no accepted message", str(stray)),
        (p + "send -> 250, ms p50/p99", p5099(to_250)),
        (p + "250 -> reply at the sink, ms p50/p99", p5099(to_reply)),
        (p + "all answered after, s", f"{seconds:.1f} ({len(to_reply) / seconds:.0f} "
         "replies/s)" if seconds else "-"),
        (p + "SIGKILL to instance 1", f"after {found.killed_at} accepted; answering again "
         f"{found.down:.1f} s later" if found.killed_at else "not reached"),
        *((f"{p}instance {i.number} RSS, MiB", ", ".join(f"{w} {mib:.0f}" for w, mib in i.rss))
          for i in instances),
    ]


def _named(keys: list[str], counts: Counter[str] | None = None) -> str:
    shown = [f"{k} x{counts[k]}" if counts else k for k in keys[:NAMED]]
    more = f" (+{len(keys) - NAMED} more)" if len(keys) > NAMED else ""
    return f"{len(keys)}" + (f": {', '.join(shown)}{more}" if keys else "")


async def run(label: str, url: str, asks: list[Ask], args: argparse.Namespace,
              root: Path) -> Rows:
    from tests.bench.mail import mails as as_mails
    from tests.bench.mail import service_env

    sink = ReplySink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.bench", ident="bench-sink", loop=loop),
        "127.0.0.1", 0)
    count = 1 if label == "sqlite" else args.load_instances
    env = service_env(url, server.sockets[0].getsockname()[1], root)
    instances = [Instance(n, env, root / f"instance-{n}.log") for n in range(1, count + 1)]
    traffic, found = Traffic(), Fault()
    try:
        for instance in instances:
            await instance.start()
            instance.measure("started")
        mails = as_mails([asks[n % len(asks)] for n in range(args.load_requests)])
        queue: asyncio.Queue[Mail] = asyncio.Queue()
        for mail in mails:
            queue.put_nowait(mail)
        console.log(f"{label}: load: {len(mails)} requests, {args.load_sessions} sessions, "
                    f"{count} instance(s); SIGKILL to instance 1 half way")
        started = time.perf_counter()
        killer = asyncio.create_task(fault(instances[0], traffic, args.load_down, found))
        ports = [i.smtp_port for i in instances]
        patience = START_TIMEOUT + args.load_down + 60
        await asyncio.gather(*(session(n, ports, queue, traffic, len(mails), patience)
                               for n in range(args.load_sessions)))
        traffic.half.set()  # all sent before half were accepted: the fault still happens
        await killer
        last = await drain(sink, traffic, args.load_drain)
        for instance in instances:
            instance.measure("at the end")
        return figures(label, instances, traffic, sink, found, len(mails),
                       max(0.0, last - started), args)
    finally:
        await asyncio.gather(*(i.stop() for i in instances))
        server.close()


async def prepare(url: str, shape: Shape, root: Path) -> list[Ask]:
    """Every invoice with its PDF (so no instance renders in the background) and the
    requests to send; the service's per-run tables emptied."""
    from tests.bench.mail import service_config
    from vault import db
    from vault.models import Invoice

    config = service_config(url, 0, root)
    await db.connect(url)
    try:
        await bench_data.reset_run_tables()
        every = tuple(await Invoice.all().order_by("id").values_list("id", flat=True))
        await bench_data.ensure_documents([Ask("all", 0, "", every)], config,
                                          os.cpu_count() or 1)
        return await bench_data.plan(shape, min(200, shape.invoices), shape.seed)
    finally:
        await db.close()


async def backend(label: str, args: argparse.Namespace) -> Column:
    root = ROOT / "load" / label
    root.mkdir(parents=True, exist_ok=True)
    (root / "load.toml").write_text("")  # the defaults; the environment says the rest
    for old in root.glob("instance-*.log"):
        old.unlink()
    shape = Shape(invoices=args.load_invoices, accounts=args.load_accounts, seed=args.seed,
                  schema=await bench_data.schema_version(ROOT))
    if label == "sqlite":
        vault = await bench_data.sqlite_vault(root, shape, args.rebuild)
    else:
        vault = await bench_data.pg_vault(args.pg, shape, args.rebuild,
                                          name=f"invoicebot_bench_load{args.tag}")
    console.log(f"{label}: load: vault of {shape.invoices:,} invoices, {vault.size}")
    asks = await prepare(vault.url, shape, root)
    return await run(label, vault.url, asks, args, root), ""
