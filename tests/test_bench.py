"""The benchmark's code runs (make bench is too slow for the suite): every part of it at
a tiny scale through the entry point `make bench` uses (one case per part: a new part is
one more PARTS entry), the alerts part's counts, and the email part's vault builder with
one request through the real service."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from notifier.delivery import SmtpSender
from tests.alerting import text_of
from tests.bench import alerts, mail
from tests.bench import data as bench_data
from tests.bench.__main__ import PARTS as BENCH_PARTS
from tests.bench.data import Shape
from tests.fakes import SmtpSink
from tests.harness import Running, request_mail
from tests.scratchdb import PG_URL
from vault import db

REPO = Path(__file__).parents[1]

# Each part at a tiny scale: a few hundred invoices, a few requests. A part added to the
# bench gets its entry here (test_every_bench_part_has_a_tiny_case fails until it has).
PARTS = {
    "email": ["--invoices", "300", "--accounts", "20", "--requests", "4", "--burst", "4",
              "--timeout", "30", "--drain", "60"],
    "alerts": ["--alerts", "200", "--alerts-baseline", "50"],
    "ingest": ["--ingest-count", "3", "--ingest-pdf-count", "1", "--history-count", "5",
               "--history-sample", "2"],
    "load": ["--load-requests", "60", "--load-sessions", "4", "--load-instances", "2",
             "--load-invoices", "200", "--load-accounts", "10", "--load-down", "0.5",
             "--load-drain", "120"],
    "pdf": ["--pdf-renders", "2"],
    "storage": ["--storage-documents", "3", "--storage-size", "20000", "--storage-downloads",
                "6", "--storage-clients", "2"],
}


def test_the_bench_entry_point_lists_its_parts() -> None:
    shown = subprocess.run([sys.executable, "-m", "tests.bench", "--help"], check=True,
                           capture_output=True, text=True, cwd=REPO)
    assert f"--only {{{','.join(BENCH_PARTS)}}}" in shown.stdout
    assert "--alerts-baseline" in shown.stdout and "--load-requests" in shown.stdout


def test_every_bench_part_has_a_tiny_case() -> None:
    assert set(PARTS) == set(BENCH_PARTS)


@pytest.mark.parametrize("part", list(PARTS))
def test_a_bench_part_runs_at_a_tiny_scale(part: str, tmp_path: Path) -> None:
    """`make bench ARGS="--only PART ..."` on a fresh set-up (its files in a new folder,
    PostgreSQL databases of its own when the suite runs there): exit status 0, no error
    row. A schema change the bench's builder cannot fill, or a part that raises, fails."""
    tag = f"_t{uuid.uuid4().hex[:8]}"
    where = ["--pg", PG_URL, "--no-sqlite", "--tag", tag] if PG_URL else []
    try:
        ran = subprocess.run(
            [sys.executable, "-m", "tests.bench", "--only", part, *PARTS[part], *where],
            cwd=REPO, capture_output=True, text=True, timeout=540,
            env={**os.environ, "BENCH_DIR": str(tmp_path), "COLUMNS": "200"})
    finally:
        if PG_URL:
            _drop_tagged(tag)
    shown = ran.stdout + ran.stderr
    assert ran.returncode == 0, shown[-6000:]
    assert "invoicebot benchmark" in ran.stdout and "│ error" not in ran.stdout, shown


def _drop_tagged(tag: str) -> None:
    async def drop() -> None:
        admin = await asyncpg.connect(PG_URL)
        try:
            for (name,) in await admin.fetch(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'invoicebot_bench_%'"):
                if tag in name:  # a build left half done ends in _building
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


async def test_alerts_bench_delivers_each_alert_once_both_ways(orm: str) -> None:
    args = argparse.Namespace(alerts=200, alerts_baseline=50)
    sink = alerts.AlertSink()
    try:
        rows = dict(await alerts.measure("test", args, sink, SmtpSender(
            "127.0.0.1", sink.port, envelope_from=alerts.SENDER)))
    finally:
        sink.close()
    assert rows["alerts: at the sink: messages / distinct Message-IDs"] == "200 / 200"
    assert rows["alerts: outbox rows by state"] == "sent 200"
    baseline = rows["alerts: baseline: claim 1 per transaction, 1 connection per message, sent/s"]
    assert baseline.endswith("(50 at the sink)")
    assert float(rows["alerts: 200 delivered by dispatch_due, s (sent/s)"].split()[0]) > 0


# ---- the email part's vault builder and one request through the real service -------------

SMALL = Shape(invoices=300, accounts=20, seed=1, schema="test")


@pytest.fixture
async def bench_vault(tmp_path: Path) -> AsyncIterator[str]:
    """A small vault built by the benchmark's own builder (raw SQL, columns from the models),
    on PostgreSQL when the suite runs there."""
    if not PG_URL:
        yield (await bench_data.sqlite_vault(tmp_path, SMALL, rebuild=True)).url
        return
    name = f"invoicebot_test_bench_{uuid.uuid4().hex[:10]}"
    try:
        yield (await bench_data.pg_vault(PG_URL, SMALL, rebuild=True, name=name)).url
    finally:
        admin = await asyncpg.connect(PG_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_a_bench_vault_answers_a_bench_request_end_to_end(
    bench_vault: str, sink: SmtpSink, tmp_path: Path
) -> None:
    """What `make bench` does for one request: the built vault, the planned request and its
    PDF, the real service, a real SMTP request, the reply at the relay. A column added to a
    model without a default the builder can fill fails here, not in `make bench`."""
    config = mail.service_config(bench_vault, sink.port, root=tmp_path)
    await db.connect(bench_vault)
    try:
        ask = next(a for a in await bench_data.plan(SMALL, 2, seed=1) if a.kind == "number")
        new, _ = await bench_data.ensure_documents([ask], config, workers=1)
    finally:
        await db.close()
    assert new == 1
    service = mail.bench_service(config)
    await service.start()
    try:
        await Running(service, sink, config).send(request_mail(ask.sender, ask.text))
        (reply,) = await sink.wait_for(1)
        text = text_of(reply.message)
        link = re.search(r"http://\S+/d/\S+", text)
        assert link, text
        local = re.sub(r"^http://[^/]+", f"http://127.0.0.1:{service.http_port}", link[0])
        async with httpx.AsyncClient() as client:
            pdf = await client.get(local)
    finally:
        await service.stop()
    assert reply.rcpt_tos == [ask.sender]
    assert f"Here is {ask.text}." in text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
