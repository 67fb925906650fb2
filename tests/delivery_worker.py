"""A delivery process for tests that need a real second OS process (crash, two schedulers).

    python -m tests.delivery_worker --db URL --relay 127.0.0.1:PORT [options]

It runs the production delivery code (notifier.delivery.dispatch_once with SmtpSender)
against a shared database and reports on stdout, one line each:

    ready               the database is open (with --scheduler: waits for "go" on stdin)
    accepted <msg-id>   with --pause-after N: the relay accepted the Nth message; the row
                        is not marked sent yet, and the process waits here to be killed
    sent <n>            on exit: how many rows this process marked sent

Without --scheduler it drains what is due and exits. With --scheduler SECONDS an
APScheduler AsyncIOScheduler triggers the stateless dispatch tick every SECONDS, as the
service's does, until stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from notifier.delivery import SmtpSender, dispatch_once
from notifier.message import Outgoing, loads
from vault import db
from vault.clock import SYSTEM, Clock, FixedClock
from vault.config import parse_hostport


class PausingSender:
    """An SmtpSender that stops for good right after the relay accepted its Nth message:
    the moment between the relay's 250 and the row being marked sent, held open so a
    test can kill the process there without racing it."""

    channel = "email"

    def __init__(self, inner: SmtpSender, after: int) -> None:
        self.inner, self.after, self.accepted = inner, after, 0

    async def send(self, recipient: str, payload: bytes) -> None:
        await self.inner.send(recipient, payload)
        self.accepted += 1
        if self.accepted == self.after:
            message = loads(payload)
            assert isinstance(message, Outgoing)
            say(f"accepted {message.message_id}")
            await asyncio.Event().wait()  # until killed


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        host, port = parse_hostport(args.relay, "--relay")
        smtp = SmtpSender(host, port, timeout=10, envelope_from="invoices@localhost")
        self.sender: SmtpSender | PausingSender = (
            PausingSender(smtp, args.pause_after) if args.pause_after else smtp)
        # A frozen clock, or the system one (read each round, as the service does).
        self.clock: Clock = FixedClock(datetime.fromisoformat(args.now)) if args.now else SYSTEM
        self.lease = timedelta(seconds=args.lease)
        self.claim = args.claim
        self.sent = 0
        self.ticking = asyncio.Lock()
        self.stopping = False
        self.ticks: set[asyncio.Task[None]] = set()

    async def tick(self) -> None:
        """One dispatch tick: send until nothing is due. The scheduler only triggers it;
        which rows are due and whose they are is decided in the database."""
        async with self.ticking:
            while sent := await dispatch_once(self.sender, now=self.clock.now(), lease=self.lease,
                                              claim=self.claim):
                self.sent += sent

    async def scheduled(self, every: float) -> None:
        commands = await stdin_reader()
        say("ready")
        await commands.readline()  # "go": start together with the other processes
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(self.trigger, "interval", seconds=every, id="dispatch",
                          max_instances=1, coalesce=True)
        scheduler.start()
        await commands.read()  # until stdin closes
        scheduler.pause()  # no new ticks
        self.stopping = True
        # Ticks run as our own tasks, which shutdown() cannot cancel halfway through a
        # claim: wait for them to finish their rows.
        await asyncio.gather(*self.ticks)
        scheduler.shutdown(wait=False)

    async def trigger(self) -> None:
        """The scheduler's job: start a tick as our own task and return at once."""
        if not self.stopping:
            task = asyncio.create_task(self.tick())
            self.ticks.add(task)
            task.add_done_callback(self.ticks.discard)


async def stdin_reader() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.delivery_worker",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="database URL (sqlite://... postgres://...)")
    parser.add_argument("--relay", required=True, help="SMTP relay HOST:PORT")
    parser.add_argument("--now", help="a frozen clock, ISO 8601 with offset")
    parser.add_argument("--lease", type=float, default=300, help="seconds")
    parser.add_argument("--claim", type=int, default=10, help="rows claimed per transaction")
    parser.add_argument("--pause-after", type=int, default=0, metavar="N",
                        help="wait to be killed once the relay accepted the Nth message")
    parser.add_argument("--scheduler", type=float, default=0, metavar="SECONDS",
                        help="run dispatch ticks from an AsyncIOScheduler every SECONDS")
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> None:
    await db.connect(args.db)
    worker = Worker(args)
    try:
        if args.scheduler:
            await worker.scheduled(args.scheduler)
        else:
            say("ready")
            await worker.tick()
    finally:
        say(f"sent {worker.sent}")
        await db.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # Not the "skipped: maximum number of running instances" line at every busy tick.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    asyncio.run(main(parse_args()))
