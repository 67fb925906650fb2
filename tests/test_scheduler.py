"""The scheduler in the service: which ticks it triggers, and that they really run."""

from __future__ import annotations

from pathlib import Path

from bot.service import Service
from notifier.alerts import PDF_RETRY
from tests.alerting import alert_config, running_alerts
from tests.fakes import SmtpSink
from vault.pdf import PdfRenderer


async def test_the_service_schedules_alerts_sweep_due_soon_and_digests(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, orm: str
) -> None:
    service = Service(alert_config(make_config, sink))
    await service.start()
    try:
        jobs = {job.id for job in service.scheduler.get_jobs()}
    finally:
        await service.stop()
    assert jobs == {"dispatch", "alerts", "overdue-sweep", "due-soon", "digests", "chat-prune",
                    "inbound-retry", "api-idempotency-prune", "refusal-counts", "retention"}


async def test_with_the_notifier_off_only_delivery_and_the_sweep_run(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, orm: str
) -> None:
    service = Service(alert_config(make_config, sink, INVOICEBOT_NOTIFIER_ENABLED="false"))
    await service.start()
    try:
        jobs = {job.id for job in service.scheduler.get_jobs()}
    finally:
        await service.stop()
    assert jobs == {"dispatch", "overdue-sweep", "chat-prune", "inbound-retry",
                    "refusal-counts", "retention", "api-idempotency-prune"}


async def test_the_scheduled_alerts_tick_alerts_without_anyone_calling_it(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str, tmp_path: Path
) -> None:
    config = alert_config(make_config, sink, INVOICEBOT_NOTIFIER_TICK="1s")
    async with running_alerts(config, sink, renderer, tmp_path) as alerting:
        await alerting.invoices(("GLOBEX", "G-5001", 0, 30, "10.00"))
        # A tick that ran before the PDF was rendered held the alert a minute for it:
        # the frozen clock moves on that minute (the PDF is there once the import returns).
        alerting.clock.advance(PDF_RETRY)
        (received,) = await sink.wait_for(1, timeout=10)
    assert received.rcpt_tos == ["ap@globex.example"]
    assert received.message["Subject"].startswith("New invoice G-5001")
