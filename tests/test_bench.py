"""The benchmark's code runs (make bench is too slow for the suite): its entry point, and
the alerts part on 200 alerts against this test's database and a real sink process."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from notifier.delivery import SmtpSender
from tests.bench import alerts


def test_the_bench_entry_point_lists_its_parts() -> None:
    shown = subprocess.run([sys.executable, "-m", "tests.bench", "--help"], check=True,
                           capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert "--only {email,alerts,pdf}" in shown.stdout and "--alerts-baseline" in shown.stdout


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
