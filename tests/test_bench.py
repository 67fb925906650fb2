"""The benchmark's code runs (make bench is too slow for the suite): its entry point, the
alerts part on 200 alerts against this test's database and a real sink process, the
email part's vault builder with one request through the real service, and the ingest part
on a few invoices."""

from __future__ import annotations

import argparse
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
from tests.bench import alerts, ingest, mail
from tests.bench import data as bench_data
from tests.bench.data import Shape
from tests.fakes import SmtpSink
from tests.harness import Running, request_mail
from tests.scratchdb import PG_URL
from vault import db


def test_the_bench_entry_point_lists_its_parts() -> None:
    shown = subprocess.run([sys.executable, "-m", "tests.bench", "--help"], check=True,
                           capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert "--only {email,alerts,ingest,pdf}" in shown.stdout
    assert "--alerts-baseline" in shown.stdout and "--ingest-count" in shown.stdout


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
    assert float(rows["alerts: 200 delivered by dispatch_once, s (sent/s)"].split()[0]) > 0


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


async def test_ingest_bench_stores_and_issues_each_invoice_every_way(tmp_path: Path) -> None:
    """The ingest part at a tiny scale on the suite's database server: every row (API and
    CSV, PDFs on and off) stores its invoices with a PDF each, or the part raises."""
    args = argparse.Namespace(ingest_count=3, ingest_pdf_count=1, pg=PG_URL or None)
    rows, _ = await ingest.backend("postgresql" if PG_URL else "sqlite", args, root=tmp_path)
    figures = dict(rows)
    assert len(figures) == 4
    for source, pdfs in ingest.ROWS:
        count = 3 if pdfs == "off" else 1
        assert float(figures[ingest.figure(source, pdfs, count)].split()[0]) > 0
