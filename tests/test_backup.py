"""Backups an operator can restore: taken while serve answers mail, restored into a new place,
answering the same request with the same invoices and byte-identical PDFs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from bot.service import Service
from tests.conftest import TEST_KEYS
from tests.fakes import SmtpSink
from tests.harness import (
    PUBLIC_URL,
    Running,
    fixed_clock,
    load_e2e_data,
    request_mail,
    until,
)
from tests.test_email_e2e import LINK, text_of
from vault import db
from vault.config import Config
from vault.models import InboundMessage
from vault.pdf import PdfRenderer

CLI_TIMEOUT = 120
BURST = 6


async def invoicebot(*args: str, place: Path) -> tuple[int, str, str]:
    """The real CLI in a subprocess, on the SQLite database and vault under `place`."""
    place.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")} | {
        "INVOICEBOT_DATABASE_URL": f"sqlite://{place / 'db.sqlite3'}",
        "INVOICEBOT_VAULT_PATH": str(place / "vault"),
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=place,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def config_at(make_config, place: Path, sink: SmtpSink) -> Config:  # type: ignore[no-untyped-def]
    place.mkdir(exist_ok=True)
    return make_config(  # type: ignore[no-any-return]
        INVOICEBOT_DATABASE_URL=f"sqlite://{place / 'db.sqlite3'}",
        INVOICEBOT_VAULT_PATH=str(place / "vault"),
        INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
        INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
        INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32",
    )


async def answer_with_pdfs(running: Running, text: str) -> tuple[str, list[bytes]]:
    """The reply to this request (by In-Reply-To: others may be answered meanwhile), with
    its links replaced, and the PDFs its links download."""
    request = request_mail("ap@acme.example", text)
    await running.send(request)

    async def reply() -> str | None:
        return next((text_of(r.message) for r in running.sink.messages
                     if r.message["In-Reply-To"] == request["Message-ID"]), None)

    body = await until(reply, timeout=20)
    pdfs = []
    for url in LINK.findall(body):
        response = await running.download(url)
        assert response.status_code == 200
        pdfs.append(response.content)
    # Links carry tokens each service signs anew: download links and "Open your account".
    return re.sub(r"/a/[A-Za-z0-9._-]+", "/a/<link>", LINK.sub("<link>", body)), pdfs


async def test_a_backup_taken_while_serving_restores_to_the_same_answers_and_pdfs(
    make_config, sink: SmtpSink, renderer: PdfRenderer, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    live, saved, restored = tmp_path / "live", tmp_path / "backup", tmp_path / "restored"
    config = config_at(make_config, live, sink)
    service = Service(config, clock=fixed_clock())
    await service.start()
    try:
        await load_e2e_data(config, renderer)
        running = Running(service, sink, config)
        burst = [request_mail("ap@acme.example", f"invoice INV-2026-030{1 + n % 2}")
                 for n in range(BURST)]
        sending = asyncio.gather(*(running.send(msg) for msg in burst))
        code, out, err = await invoicebot("backup", str(saved), place=live)
        await sending
        await sink.wait_for(BURST)  # the service answered every mail of the burst
        assert code == 0, err
        assert "manifest.json" in out
        expected = await answer_with_pdfs(running, "invoices March")
        assert len(expected[1]) == 2
    finally:
        await service.stop()
        await db.close()

    manifest = json.loads((saved / "manifest.json").read_text())
    assert len(manifest["documents"]) >= 2
    assert stat.S_IMODE((saved / "invoicebot.db").stat().st_mode) == 0o600

    code, out, err = await invoicebot("restore", str(saved), place=restored)
    assert code == 0, err
    restored_config = config_at(make_config, restored, sink)
    service = Service(restored_config, clock=fixed_clock())
    await service.start()
    try:
        assert await answer_with_pdfs(Running(service, sink, restored_config),
                                      "invoices March") == expected
        # The burst's mail that the snapshot holds is there, and none of it is lost: what was
        # still queued at the snapshot is answered by the restored service.
        assert await InboundMessage.filter(state="processed").count() >= 1

        async def all_processed() -> bool:
            return await InboundMessage.exclude(state="processed").count() == 0

        await until(all_processed)
    finally:
        await service.stop()
        await db.close()


async def test_restore_refuses_a_damaged_backup_and_a_place_that_is_not_empty(
    make_config, sink: SmtpSink, renderer: PdfRenderer, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    live, saved = tmp_path / "live", tmp_path / "backup"
    config = config_at(make_config, live, sink)
    await db.migrate(config.database_url)
    await db.connect(config.database_url)
    try:
        await load_e2e_data(config, renderer)
    finally:
        await db.close()
    assert (await invoicebot("backup", str(saved), place=live))[0] == 0

    # Into the live place itself: refused, nothing touched.
    code, _, err = await invoicebot("restore", str(saved), place=live)
    assert code == 2
    assert err == (f"invoicebot: {live / 'db.sqlite3'}: a database is already here; restore only "
                   "into an empty place (move it away, or point database.url elsewhere)\n")

    manifest = json.loads((saved / "manifest.json").read_text())
    damaged = saved / "vault" / manifest["documents"][0]["key"]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"!")
    fresh = tmp_path / "fresh"
    code, _, err = await invoicebot("restore", str(saved), place=fresh)
    assert code == 2
    assert err == (f"invoicebot: {damaged}: does not match the sha256 in manifest.json "
                   "(damaged backup)\n")
    assert not (fresh / "db.sqlite3").exists() and not (fresh / "vault").exists()

    # A second backup into a folder that holds something: refused.
    code, _, err = await invoicebot("backup", str(saved), place=live)
    assert (code, err) == (2, f"invoicebot: {saved}: backup folder must be a new or empty "
                              "folder\n")


@pytest.mark.parametrize("url", ["postgres://postgres@127.0.0.1:5432/postgres"])
async def test_backup_on_postgresql_refuses_with_what_to_use_instead(
    tmp_path: Path, url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")} | {
        "INVOICEBOT_DATABASE_URL": url, "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        "PYTHONPATH": str(Path(__file__).parent.parent)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "backup", str(tmp_path / "b"), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
    assert process.returncode == 2
    assert err.decode().startswith("invoicebot: database.url is PostgreSQL: back it up with "
                                   "pg_dump")
    assert not (tmp_path / "b").exists()
