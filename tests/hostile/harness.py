"""The running service for hostile tests, and the observers they measure it with."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx

from bot.inbound import RETRY_EVERY
from bot.service import Service
from tests.fakes import SmtpSink
from tests.harness import DOWNLOAD_LINK as LINK
from tests.harness import (
    PUBLIC_URL,
    Running,
    fixed_clock,
    load_e2e_data,
    request_mail,
    until,
)
from vault.config import Config
from vault.pdf import PdfRenderer

CONTACT = "ap@acme.example"


def hostile_config(make_config: Callable[..., Config], sink: SmtpSink, **env: str) -> Config:
    """Replies to the sink, links under PUBLIC_URL, mail from 127.0.0.1 relayed (trusted)."""
    return make_config(  # type: ignore[no-any-return]
        INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
        INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
        INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32", **env)


@asynccontextmanager
async def running_service(config: Config, sink: SmtpSink, renderer: PdfRenderer, *,
                          retry: timedelta = RETRY_EVERY,
                          data: bool = True) -> AsyncIterator[Running]:
    """The service; with `data`, the e2e accounts, contacts and invoices loaded."""
    service = Service(config, clock=fixed_clock(), inbound_retry=retry)
    await service.start()
    try:
        if data:
            await load_e2e_data(config, renderer)
        yield Running(service=service, sink=sink, config=config)
    finally:
        await service.stop()


async def signed_link(running: Running) -> str:
    """A real download link: the contact asks for March and we take the reply's first."""
    await running.send(request_mail(CONTACT, "invoices March"))
    await running.sink.wait_for(1)
    body = running.sink.messages[-1].message.get_body(preferencelist=("plain",))
    assert body is not None
    links = LINK.findall(str(body.get_content()))  # type: ignore[attr-defined]
    assert links, "the reply carries download links"
    return f"http://127.0.0.1:{running.service.http_port}" + links[0].removeprefix(PUBLIC_URL)


class DownloadProbe:
    """Downloads one PDF over and over from its own thread (its own client, not the
    service's loop) and keeps each download's latency: how long a user waited.

    Only downloads started after `measure_from_now` count: one in flight while the
    service commits (and fsyncs) a megabyte of mail waits for that commit, which is the
    disk's time on a busy machine, not the parsing a test means to measure."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self._from = 0.0  # perf_counter time from which downloads count
        self.statuses: set[int | str] = set()  # status codes, or the error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="download-probe", daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    response = client.get(self.url, headers={"User-Agent": "hostile-probe/1.0"})
                except httpx.HTTPError as error:  # seen by the test as a failed download
                    self.statuses.add(type(error).__name__)
                    continue
                finally:
                    if started >= self._from:
                        self.latencies.append(time.perf_counter() - started)
                self.statuses.add(response.status_code)
                self._stop.wait(0.02)  # a user clicking, not a benchmark

    async def __aenter__(self) -> DownloadProbe:
        self._thread.start()
        return self

    async def warmed(self, downloads: int = 3) -> None:
        """Wait for a few downloads before the test's attack (the first of a process pays
        its imports), then keep only the latencies measured from now on."""
        await until(lambda: _true(len(self.latencies) >= downloads), timeout=30)
        self.measure_from_now()

    def measure_from_now(self) -> None:
        """Forget the latencies so far, and any download already in flight."""
        self._from = time.perf_counter()
        self.latencies.clear()

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        # Joined from a thread: the service on this loop answers the last download.
        await asyncio.to_thread(self._thread.join, 60)

    @property
    def slowest(self) -> float:
        return max(self.latencies)


async def _true(value: bool) -> bool:
    return value
