"""Downloads from the vault's storage: a folder next to an S3 store, through the service.

`make bench ARGS="--only storage"`. For each storage, on a scratch SQLite database under
var/bench/: --storage-documents documents of --storage-size bytes are stored through the
document store, each behind its own download link (one grant per document), and the real
Service (bot.service) is started with [vault] url pointing at the storage. Then
--storage-clients concurrent HTTP clients GET the links, --storage-downloads in all, each
checked for its full length. Timed from the first request sent to the last byte received;
figures: MB/s and downloads/s, printed side by side.

The S3 store is moto's server (from the test extra) in a process of its own on loopback: a
stand-in for an object store, not a measure of one; real S3 adds a network round trip per
download (and a presigned URL, `--storage-presign`, takes the bytes off the service
entirely). Every download is still a real one: grant re-checked, audit row written.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.bench.common import ROOT, Column, Rows
from vault.clock import SYSTEM

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("storage")
    group.add_argument("--storage-documents", type=int, default=50, metavar="N",
                       help="documents stored (one download link each)")
    group.add_argument("--storage-size", type=int, default=200_000, metavar="BYTES",
                       help="bytes per document (an invoice PDF is 30-200 KB)")
    group.add_argument("--storage-downloads", type=int, default=500, metavar="N",
                       help="downloads in all, per storage")
    group.add_argument("--storage-clients", type=int, default=8, metavar="N",
                       help="concurrent HTTP clients")
    group.add_argument("--storage-presign", action="store_true",
                       help="S3 downloads redirect to presigned URLs (followed by the client)")


async def backend(label: str, args: argparse.Namespace, root: Path = ROOT) -> Column:
    """The part's rows: each storage's figures, side by side in one value."""
    folder = root / f"storage-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    with aws_credentials(), moto_process() as endpoint:
        file = await measure(args, folder / "file", {"INVOICEBOT_VAULT_URL":
                                                     f"file:{folder / 'file' / 'vault'}"})
        s3 = await measure(args, folder / "s3", s3_env(endpoint, args.storage_presign))
    size = f"{args.storage_size / 1000:.0f} KB"
    name = f"storage: {args.storage_downloads} downloads of {size}, {args.storage_clients} clients"
    s3_label = "S3 (moto" + (", presigned)" if args.storage_presign else ")")
    rows: Rows = [
        (f"{name}: folder / {s3_label}, MB/s",
         f"{file.megabytes_per_second:.1f} / {s3.megabytes_per_second:.1f}"),
        (f"{name}: folder / {s3_label}, downloads/s",
         f"{file.downloads_per_second:.1f} / {s3.downloads_per_second:.1f}"),
    ]
    return rows, ""


class Figures:
    def __init__(self, downloads: int, received: int, seconds: float) -> None:
        self.downloads_per_second = downloads / seconds
        self.megabytes_per_second = received / seconds / 1e6


def s3_env(endpoint: str, presign: bool) -> dict[str, str]:
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    import boto3  # moto's own dependency (the test extra)

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return {"INVOICEBOT_VAULT_URL": f"s3://{bucket}/vault",
            "INVOICEBOT_VAULT_S3_ENDPOINT": endpoint,
            "INVOICEBOT_VAULT_S3_PRESIGN": "true" if presign else "false"}


async def measure(args: argparse.Namespace, folder: Path, vault_env: dict[str, str]) -> Figures:
    from bot.service import Service

    config = bench_config(folder, vault_env)
    links = await stored_links(config, args.storage_documents, args.storage_size)
    service = Service(config)
    await service.start()
    try:
        base = f"http://127.0.0.1:{service.http_port}"
        return await download(base, links, args)
    finally:
        await service.stop()


async def download(base: str, links: list[str], args: argparse.Namespace) -> Figures:
    queue = [links[n % len(links)] for n in range(args.storage_downloads)]
    received = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal received
        while queue:
            answer = await client.get(base + queue.pop())
            if answer.status_code != 200 or len(answer.content) != args.storage_size:
                raise RuntimeError(f"download: {answer.status_code}, {len(answer.content)} "
                                   f"bytes of {args.storage_size}")
            received += len(answer.content)

    async with httpx.AsyncClient(timeout=60, follow_redirects=True,
                                 limits=httpx.Limits(max_connections=args.storage_clients)
                                 ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(args.storage_clients)))
        seconds = time.perf_counter() - started
    return Figures(args.storage_downloads, received, seconds)


async def stored_links(config: Any, count: int, size: int) -> list[str]:
    """`count` documents of `size` bytes in the configured vault, one link path each."""
    from bot.commands_cli import database
    from vault import links
    from vault.invoices import AccountScope
    from vault.models import Account, Contact

    signer = links.LinkSigner(config.secret_keys)
    async with database(config), _store(config) as store:
        account = await Account.create(account_id="BENCH", name="Bench")
        contact = await Contact.create(account=account, email="ap@bench.example")
        scope = await AccountScope.for_contact(contact)
        paths = []
        for n in range(count):
            data = b"%PDF-1.7\n" + os.urandom(size - 9 - 16) + f"%bench {n:09d}\n".encode()
            document = await store.put(data[:size])
            await _invoice(account, n, document)
            grant = await links.grant(scope, [document], f"BENCH-{n}", timedelta(days=1),
                                      SYSTEM.now())
            paths.append(f"/d/{signer.sign(grant.id)}")
        return paths


async def _invoice(account: Any, n: int, document: Any) -> None:
    from datetime import date
    from decimal import Decimal

    from vault.models import Invoice

    await Invoice.create(account=account, number=f"BENCH-{n:06d}", issue_date=date(2026, 1, 1),
                         due_date=date(2026, 2, 1), currency="EUR", subtotal=Decimal(1),
                         tax_total=Decimal(0), total=Decimal(1), content_hash=f"{n}",
                         document=document)


@asynccontextmanager
async def _store(config: Any) -> AsyncIterator[Any]:
    from vault.documents import DocumentStore

    store = DocumentStore.open(config.vault)
    try:
        yield store
    finally:
        await store.close()


def bench_config(folder: Path, vault_env: dict[str, str]) -> Any:
    from vault.config import load_config

    folder.mkdir(parents=True)
    env = {
        "INVOICEBOT_DATABASE_URL": f"sqlite://{folder / 'bench.db'}",
        "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{folder / 'outbox'}",
        "INVOICEBOT_EMAIL_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_HTTP_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_SECRET_KEYS": "bench-" + "k" * 40,
        "INVOICEBOT_NOTIFIER_ENABLED": "false",
        # One contact downloads all day here: the access watch would ask it to step up.
        "INVOICEBOT_ACCESS_WATCH_DOWNLOADS_FLOOR": "100000000",
        **vault_env,
    }
    (folder / "defaults.toml").write_text("")
    return load_config(folder / "defaults.toml", env=env)


@contextmanager
def aws_credentials() -> Iterator[None]:
    """moto's dummy credentials in the environment (botocore reads them), then as before."""
    before = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def moto_process() -> Iterator[str]:
    """moto's S3 server in a process of its own on 127.0.0.1; yields its endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def _wait_for_port(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"moto server exited with {server.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("moto server did not listen within 30 s")
