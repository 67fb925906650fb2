"""Alerts at volume: N alert emails enqueued and delivered to a local SMTP sink, each way
timed on its own and next to the previous way of doing it (see the package docstring).

Per database, in a process of its own, on a fresh database (var/bench/alerts/ for
SQLite, invoicebot_bench_alerts next to --pg's database, dropped and made again). The
sink is aiosmtpd in another process; it counts Message-IDs, so a message delivered twice
or not at all shows in the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser
from email.policy import compat32
from multiprocessing.connection import Connection
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from notifier import outbox
from notifier.delivery import LEASE, SmtpSender, dispatch_due
from notifier.message import Link, MailHeaders, Outgoing, Section
from notifier.outbox import enqueue, enqueue_many
from tests.bench.common import ROOT, Column, Rows, console, loopback_only
from tests.bench.watch import Watch, database_pids
from vault import db
from vault.clock import SYSTEM
from vault.models import OutboxMessage
from vault.vocabulary import Channel, OutboxKind

SENDER = "invoices@localhost"


def alert(n: int, prefix: str) -> Outgoing:
    """A due-date reminder of realistic size (~1.5 KB as text and HTML). The outbox
    stores it as JSON; the email is rendered when it is delivered."""
    number = f"INV-2026-{n:06d}"
    text = (f"Invoice {number} over EUR {n % 9000 + 100}.00 is due on 24 November 2026.",
            "You get this because you receive due-date reminders; reply \"stop reminders\" "
            "to turn them off.")
    link = Link("Download it", "https://invoices.example/d/" + "x" * 120)
    return Outgoing(
        kind=OutboxKind.ALERT, channel=Channel.EMAIL, key=f"{prefix}:{n}",
        recipient=f"ap{n % 5000}@customer{n % 5000}.example",
        title=f"Reminder: invoice {number} is due in 3 days",
        sections=(Section(text=text, links=(link,)),),
        mail=MailHeaders(sender=SENDER, display_name="Example Seller"))


# ---- the sink, in a process of its own ----------------------------------------------------

class CountingHandler:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.headers = BytesHeaderParser(policy=compat32)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        headers = self.headers.parsebytes(envelope.original_content or b"", headersonly=True)
        with self.lock:
            self.seen[str(headers.get("Message-ID", "")).strip()] += 1
        return "250 2.0.0 OK"


def _sink_main(conn: Connection) -> None:
    loopback_only()
    handler, loop = CountingHandler(), asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="sink.bench", ident="bench-sink", loop=loop),
        "127.0.0.1", 0))
    conn.send(server.sockets[0].getsockname()[1])
    threading.Thread(target=loop.run_forever, name="sink", daemon=True).start()
    while conn.recv() is not None:  # "counts": what arrived since the last call
        with handler.lock:
            seen, handler.seen = handler.seen, Counter()
        conn.send((sum(seen.values()), len(seen)))


class AlertSink:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_sink_main, args=(child,), name="alert-sink",
                                       daemon=True)
        self.process.start()
        self.port: int = self.conn.recv()

    def counts(self) -> tuple[int, int]:
        """(messages, distinct Message-IDs) accepted since the last call."""
        self.conn.send("counts")
        return self.conn.recv()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(10)


# ---- the two ways ----------------------------------------------------------------------------

async def enqueue_one_by_one(items: list[Outgoing]) -> None:
    """The baseline: enqueue() per alert, a commit each."""
    for item in items:
        await enqueue(item, now=SYSTEM.now())


async def deliver_one_by_one(pooled: SmtpSender) -> int:
    """The baseline, the delivery loop as it was: claim one row per transaction, and a
    connection of its own for every message (keep=0: none kept)."""
    sender = SmtpSender(pooled.host, pooled.port, envelope_from=pooled.envelope_from, keep=0)
    sent = 0
    while rows := await outbox.claim(1, LEASE, SYSTEM.now(), channel="email"):
        (row,) = rows
        await sender.send(row.recipient, bytes(row.payload))
        sent += await outbox.mark_sent(row, SYSTEM.now())
    return sent


async def deliver_as_the_service_does(sender: SmtpSender) -> int:
    """The service's delivery worker woken once: rounds until the queue is empty."""
    return await dispatch_due(sender, SYSTEM.now())


TARGET = (50_000, 60.0)  # issue 14: 50,000 alerts delivered in 60 s, on SQLite


def target_note(label: str, n: int, seconds: float) -> str:
    count, limit = TARGET
    if label != "sqlite" or n != count:
        return ""
    return f"; target {limit:.0f} s: {'met' if seconds <= limit else 'NOT met'}"


async def timed(work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = await work
    return time.perf_counter() - started, value


# ---- one database -------------------------------------------------------------------------

async def fresh_database(label: str, args: argparse.Namespace) -> str:
    if label == "sqlite":
        folder = ROOT / "alerts"
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("alerts.db*"):
            path.unlink()
        return f"sqlite://{folder / 'alerts.db'}"
    import asyncpg

    name = f"invoicebot_bench_alerts{args.tag}"
    conn = await asyncpg.connect(args.pg)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return str(args.pg).rpartition("/")[0] + f"/{name}"


async def backend(label: str, args: argparse.Namespace) -> Column:
    """One database's alert figures."""
    url = await fresh_database(label, args)
    await db.migrate(url)
    await db.connect(url)
    sink = AlertSink()
    sender = SmtpSender("127.0.0.1", sink.port, envelope_from=SENDER)
    try:
        return await measure(label, args, sink, sender), ""
    finally:
        await sender.close()
        sink.close()
        await db.close()


async def measure(label: str, args: argparse.Namespace, sink: AlertSink,
                  sender: SmtpSender) -> Rows:
    n, base = args.alerts, min(args.alerts_baseline, args.alerts)
    console.log(f"{label}: alerts: baseline with {base:,}, one row and one connection at a time")
    base_enqueue, _ = await timed(enqueue_one_by_one([alert(i, "base") for i in range(base)]))
    base_deliver, base_sent = await timed(deliver_one_by_one(sender))
    base_arrived = sink.counts()
    await OutboxMessage.all().delete()

    console.log(f"{label}: alerts: {n:,} with enqueue_many and dispatch_due")
    items = [alert(i, "alert") for i in range(n)]
    enqueue_s, added = await timed(enqueue_many(items, now=SYSTEM.now()))
    pids = {"bench": [os.getpid()], "sink": [sink.process.pid or 0],
            "database server": await database_pids()}
    with Watch(pids) as watch:
        deliver_s, sent = await timed(deliver_as_the_service_does(sender))
    arrived, distinct = sink.counts()
    states = Counter(await OutboxMessage.all().values_list("state", flat=True))
    return [
        (f"alerts: baseline ({base:,}): enqueue() per alert, alerts/s",
         f"{base / base_enqueue:,.0f}"),
        ("alerts: baseline: claim 1 per transaction, 1 connection per message, sent/s",
         f"{base_sent / base_deliver:,.0f} ({base_arrived[0]:,} at the sink)"),
        (f"alerts: {n:,} enqueued with enqueue_many, s (alerts/s)",
         f"{enqueue_s:.1f} ({added / enqueue_s:,.0f}/s)"),
        (f"alerts: {n:,} delivered by dispatch_due, s (sent/s)",
         f"{deliver_s:.1f} ({sent / deliver_s:,.0f}/s)" + target_note(label, n, deliver_s)),
        ("alerts: at the sink: messages / distinct Message-IDs", f"{arrived:,} / {distinct:,}"),
        ("alerts: outbox rows by state", ", ".join(f"{k} {v:,}" for k, v in sorted(
            states.items()))),
        (f"  {watch.summary()[0][0].strip()}", watch.summary()[0][1]),
    ]
