"""Hostile HTTP clients against the running service, over loopback sockets: headers
dribbled by hundreds of connections, a 400 MB unsigned Slack POST, a malformed one."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.chat_harness import chat_env, running_service
from tests.fake_slack import FakeSlack
from tests.fakes import SmtpSink
from tests.harness import Running
from vault.config import ConfigError, load_config
from vault.config_http import HttpLimits
from vault.invoices import AccountScope
from vault.links import LinkSigner, grant, link_url
from vault.models import Contact, Document
from vault.pdf import PdfRenderer

SLOW_CLIENTS = 500
MB = 1024 * 1024


@pytest.fixture
async def running(  # type: ignore[no-untyped-def]
    make_config, slack: FakeSlack, sink: SmtpSink, renderer: PdfRenderer, orm: str
) -> AsyncIterator[Running]:
    config = make_config(**chat_env(slack, None, sink, INVOICEBOT_HTTP_HEADER_TIMEOUT="1s"))
    async with running_service(config, sink, renderer) as service:
        yield service


async def download_url(running: Running) -> str:
    """A real download link for ACME's contact, as a reply would carry it."""
    contact = await Contact.get(email="ap@acme.example")
    scope = await AccountScope.for_contact(contact)
    ids = [d.id for d in await Document.all()]
    documents = (await scope.documents(ids))[:1]
    row = await grant(scope, documents, "one invoice", running.config.link_ttl,
                      running.service.clock.now())
    signer = LinkSigner(running.config.secret_keys)
    return link_url(f"http://127.0.0.1:{running.service.http_port}", signer, row)


async def dribble(port: int, cut: list[float]) -> None:
    """Send a request's headers a byte every 0.2 s, as a slowloris does, until the server
    hangs up; record when it did (relative to the start)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000:
            writer.write(bytes([byte]))
            try:
                async with asyncio.timeout(0.2):
                    if await reader.read(1024) == b"":
                        break  # closed by the server
            except TimeoutError:
                continue
        cut.append(loop.time() - started)
    except ConnectionError:
        cut.append(loop.time() - started)
    finally:
        writer.close()


async def test_slow_header_connections_are_cut_while_a_download_still_gets_its_pdf(
    running: Running,
) -> None:
    port, url = running.service.http_port, await download_url(running)
    cut: list[float] = []
    slow = [asyncio.create_task(dribble(port, cut)) for _ in range(SLOW_CLIENTS)]
    await asyncio.sleep(0.3)  # they are all connected and dribbling
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    async with asyncio.timeout(10):
        await asyncio.gather(*slow)
    # Each was cut by the 1 s header deadline, not by anything it sent (it never ends).
    assert len(cut) == SLOW_CLIENTS
    assert max(cut) < 5, f"slowest cut after {max(cut):.1f}s"


def rss() -> int:
    """This process's resident memory in bytes (the service runs in it)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def post_chunked(port: int, path: str, total: int) -> tuple[bytes, int]:
    """POST `total` bytes of junk, chunked, made on the fly; the server's answer and how
    many bytes went out before it came (or the connection broke)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n".encode())
    answer = asyncio.create_task(reader.read(4096))
    chunk, sent = b"%x\r\n%s\r\n" % (64 * 1024, b"{" * 64 * 1024), 0
    try:
        while sent < total and not answer.done():
            writer.write(chunk)
            await writer.drain()
            sent += 64 * 1024
    except ConnectionError:
        pass
    async with asyncio.timeout(10):
        response = await answer
    writer.close()
    return response, sent


async def test_a_400_mb_unsigned_slack_post_is_refused_at_the_cap_with_bounded_memory(
    running: Running,
) -> None:
    before, peak = rss(), 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss())
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    response, sent = await post_chunked(running.service.http_port, "/slack/events", 400 * MB)
    done.set()
    await sampler
    assert response.startswith(b"HTTP/1.1 413 "), response[:100]
    assert sent < 20 * MB  # refused near the 1 MB cap, not after reading 400 MB
    growth = (max(peak, rss()) - before) / MB
    print(f"RSS before {before / MB:.0f} MB, growth during the POST {growth:.1f} MB")
    assert growth < 50


async def test_a_declared_oversized_body_is_refused_before_it_is_sent(running: Running) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"http://127.0.0.1:{running.service.http_port}/telegram/webhook",
            content=b"x" * (2 * MB))
    assert response.status_code == 413


async def test_a_malformed_unsigned_slack_body_is_refused_without_a_traceback(
    running: Running, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(timeout=10) as client:
        for body, kind in ((b"{not json", "application/json"),
                           (b"\xff\xfe%%%", "application/x-www-form-urlencoded"),
                           (b"payload=%7Bbroken", "application/x-www-form-urlencoded")):
            response = await client.post(
                f"http://127.0.0.1:{running.service.http_port}/slack/events", content=body,
                headers={"Content-Type": kind})
            assert response.status_code == 401, (body, response.status_code)
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(("key", "value", "says"), [
    ("max_body", '"lots"', "http.max_body: 'lots' is not a size"),
    ("header_timeout", '"0s"', "http.header_timeout: '0s' must be longer than 0s"),
    ("max_connections", "0", "http.max_connections: 0 is not a positive number"),
    ("max_api_body", '"10B"', "http.max_api_body: '10B' is under 1KB"),
])
def test_a_bad_http_limit_is_refused_naming_the_key(
    tmp_path: Path, key: str, value: str, says: str,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[http]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config(path, env={})


def test_the_http_limits_default_as_documented() -> None:
    limits = load_config(Path(__file__).parents[2] / "config.toml", env={}).http_limits
    assert limits == HttpLimits()
    assert (limits.max_connections, limits.header_timeout, limits.max_body) == (1000, 15, MB)
    assert limits.body_cap("/slack/events") == MB
    assert limits.body_cap("/api/v1/invoices") == 32 * MB
