"""The email benchmark's load generator, in a process of its own: a real SMTP client
(smtplib) sending requests to the service, and the sink (aiosmtpd) that the service's
outbound relay points at, so both timestamps come from one clock."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import smtplib
import threading
import time
from email.parser import BytesHeaderParser
from email.policy import compat32
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.bench.common import loopback_only

RECIPIENT = "invoices@localhost"


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


def burst(sink: Sink, port: int, mails: list[tuple[str, str, bytes]],
          sessions: int = 1) -> tuple[float, list[float]]:
    """All mails back to back over `sessions` connections at once (mail i on session
    i mod sessions), as a relay delivering a queue does; (seconds from the first MAIL FROM
    to the last 250, perf time of each mail's 250 in the order given)."""
    accepted = [0.0] * len(mails)
    share = [list(range(len(mails)))[n::sessions] for n in range(sessions)]
    clients = [_client(port) for _ in share]  # connected and greeted before the clock
    ready = threading.Barrier(len(clients) + 1)
    failed: list[BaseException] = []

    def session(smtp: smtplib.SMTP, indexes: list[int]) -> None:
        ready.wait()
        try:
            for i in indexes:
                accepted[i] = _send(smtp, Mail._make(mails[i]))[1]
        except BaseException as exc:  # reported after the others finished
            failed.append(exc)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()

    threads = [threading.Thread(target=session, args=pair, daemon=True)
               for pair in zip(clients, share, strict=True)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
    return max(accepted, default=started) - started, accepted


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
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_loadgen, args=(child,), name="loadgen",
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


