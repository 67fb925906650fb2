"""What an operator sees of a day's work: /metrics (Prometheus) and `invoicebot report`.

One scripted day over the real protocols: mail over SMTP (an answer, a request for a
person, one not understood, a stranger), a Slack DM and two Telegram messages through the
fake platforms (the second to a chat that blocked the bot: a dead delivery), and a download
of a link from a reply. /metrics must show the matching counters and histogram counts, and
`invoicebot report`, run as a separate process, the matching figures in every format.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.service import Service
from tests import fake_slack
from tests.chat_harness import (
    chat_env,
    dm_channel,
    post_slack,
    post_telegram,
    processed,
    slack_dm,
    telegram_update,
)
from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.fakes import SmtpSink
from tests.harness import DOWNLOAD_LINK as LINK
from tests.harness import Running, fixed_clock, load_e2e_data, request_mail, until
from tests.test_cli import Cli, make_cli
from vault.config import Config
from vault.models import ChatLink, Contact, OutboxMessage
from vault.pdf import PdfRenderer

ACME, GLOBEX = "ap@acme.example", "ap@globex.example"
SLACK_USER, TELEGRAM_USER, BLOCKED_USER = "U0ANNA", 700001, 700002
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(running: Running, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{running.service.http_port}/metrics",
                                headers=headers)


@dataclass
class Day:
    running: Running
    slack: FakeSlack
    telegram: FakeTelegram
    config: Config


@pytest.fixture
async def day(make_config, sink: SmtpSink, renderer: PdfRenderer,  # type: ignore[no-untyped-def]
              orm: str) -> AsyncIterator[Day]:
    async with FakeSlack() as slack, FakeTelegram() as telegram:
        config = make_config(**chat_env(slack, telegram, sink))
        service = Service(config, clock=fixed_clock())
        await service.start()
        try:
            await load_e2e_data(config, renderer)
            now = service.clock.now()
            acme, globex = await Contact.get(email=ACME), await Contact.get(email=GLOBEX)
            await ChatLink.create(contact=acme, platform="slack", team_id=fake_slack.TEAM,
                                  user_id=SLACK_USER, chat_id=dm_channel(SLACK_USER),
                                  linked_at=now)
            await ChatLink.create(contact=globex, platform="telegram", user_id=str(TELEGRAM_USER),
                                  chat_id=str(TELEGRAM_USER), linked_at=now)
            await ChatLink.create(contact=globex, platform="telegram", user_id=str(BLOCKED_USER),
                                  chat_id=str(BLOCKED_USER), linked_at=now)
            yield Day(Running(service=service, sink=sink, config=config), slack, telegram,
                      config)
        finally:
            await service.stop()


async def play(day: Day) -> None:
    """The scripted day; returns once every answer was delivered or given up on."""
    running = day.running
    for sender, text in ((ACME, "invoices March"), (ACME, "talk to a person"),
                         (ACME, "blorp frobnicate 12345 xyzzy"),
                         ("stranger@unknown.example", "invoices March")):
        msg = request_mail(sender, text, body="")
        await running.send(msg)
        await running.processed(msg)
    replies = await running.sink.wait_for(3)  # the stranger is told nothing
    march = next(r for r in replies if "INV-2026-0301" in r.message.as_string())
    download = await running.download(LINK.findall(march.message.as_string())[0])
    assert download.status_code == 200

    delivery = slack_dm(SLACK_USER, "invoices March")
    assert (await post_slack(running, delivery)).status_code == 200
    await processed(f"slack:{delivery['event_id']}")
    await day.slack.wait_for("chat.postMessage")

    day.telegram.block(BLOCKED_USER)
    for user in (TELEGRAM_USER, BLOCKED_USER):
        update = telegram_update(user, "unpaid")
        assert (await post_telegram(running, update)).status_code == 200
        await processed(f"telegram:{update['update_id']}")
    await until(lambda: OutboxMessage.filter(channel="telegram", state="dead").exists())
    await until(lambda: OutboxMessage.filter(channel="telegram", state="sent").exists())


EXPECTED_REQUESTS = {("email", "answered"): 1, ("email", "escalated"): 1,
                     ("email", "not_understood"): 1, ("email", "refused"): 1,
                     ("slack", "answered"): 1, ("telegram", "answered"): 2}


async def test_metrics_after_a_scripted_day_count_what_happened(day: Day) -> None:
    before = samples((await scrape(day.running)).text)
    await play(day)
    answer = await scrape(day.running)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    after = samples(answer.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    for (channel, outcome), n in EXPECTED_REQUESTS.items():
        assert grew("invoicebot_requests_total", channel=channel, outcome=outcome) == n
    assert grew("invoicebot_requests_total", channel="slack", outcome="refused") == 0
    # Time to retrieval: one observation per reply accepted by the relay or chat API.
    assert grew("invoicebot_time_to_retrieval_seconds_count", channel="email") == 3
    assert grew("invoicebot_time_to_retrieval_seconds_count", channel="slack") == 1
    assert grew("invoicebot_time_to_retrieval_seconds_count", channel="telegram") == 1
    assert grew("invoicebot_downloads_total", kind="pdf") == 1
    assert grew("invoicebot_documents_downloaded_total") == 1
    assert grew("invoicebot_delivery_failures_total", channel="telegram", kind="dead") == 1
    assert grew("invoicebot_delivery_attempts_total", channel="telegram") == 2
    assert grew("invoicebot_delivery_attempts_total", channel="email") == 3
    # From the database at scrape time: nothing waiting once the day is delivered.
    assert value(after, "invoicebot_outbox_depth", channel="email") == 0
    assert value(after, "invoicebot_inbound_queue_depth", channel="telegram") == 0
    assert ("invoicebot_outbox_oldest_pending_seconds", (("channel", "slack"),)) in after


async def test_report_on_the_same_day_prints_the_figures_in_every_format(
    day: Day, tmp_path: Path, database_url: str
) -> None:
    await play(day)
    await day.running.service.stop()  # the report reads stored rows; the service is done
    (tmp_path / "cli").mkdir()
    cli = make_cli(tmp_path / "cli", database_url)

    figures = await report(cli, "json")
    assert {k: figures[k] for k in ("requests", "answered", "escalated", "not_understood",
                                    "refused", "unverified", "tickets_avoided", "downloads",
                                    "disputes", "replies_timed")} == {
        "requests": 7, "answered": 4, "escalated": 1, "not_understood": 1, "refused": 1,
        "unverified": 0, "tickets_avoided": 4, "downloads": 1, "disputes": 0,
        "replies_timed": 5}
    assert figures["active_contacts_by_channel"] == {"email": 1, "slack": 1, "telegram": 1}
    assert figures["downloads_per_contact"] == {ACME: 1}
    # The service's clock stands still in tests: each reply is accepted when it is asked.
    assert figures["time_to_retrieval_p50_ms"] == 0.0
    assert figures["time_to_retrieval_p90_ms"] == 0.0
    (unclear,) = figures["top_not_understood"]
    assert unclear["count"] == 1 and "blorp frobnicate" in unclear["text"]
    assert "12345" not in unclear["text"]

    rows = list(csv.reader(io.StringIO(await report(cli, "csv"))))
    assert rows[0] == ["figure", "key", "value"]
    assert ["requests", "", "7"] in rows and ["escalated", "", "1"] in rows
    assert ["active_contacts_by_channel", "telegram", "1"] in rows
    assert ["downloads_per_contact", ACME, "1"] in rows

    text = await report(cli, "text")
    assert re.search(r"requests received:\s+7\n", text)
    assert re.search(r"answered automatically:\s+4 \(support tickets avoided", text)
    assert re.search(r"escalated to a person:\s+1\n", text)
    assert re.search(r"not understood:\s+1\n", text)
    assert "median 0 ms, p90 0 ms (5 replies)" in text
    assert "email 1, slack 1, telegram 1" in text

    only_globex = await report(cli, "json", "--account", "GLOBEX")
    assert (only_globex["requests"], only_globex["answered"]) == (2, 2)


async def report(cli: Cli, fmt: str, *more: str):  # type: ignore[no-untyped-def]
    code, out, err = await cli.run("report", "--since", "2026-11-01", "--format", fmt, *more)
    assert code == 0, err
    return json.loads(out) if fmt == "json" else out


# ---- who may read /metrics -------------------------------------------------------------------

@pytest.fixture
async def plain(make_config, sink: SmtpSink, orm: str  # type: ignore[no-untyped-def]
                ) -> AsyncIterator[Service]:
    service = Service(make_config(), clock=fixed_clock())
    yield service
    await service.stop()


async def get(port: int, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{port}/metrics", headers=headers)


async def test_with_a_metrics_token_only_its_bearer_reads_the_metrics(
    plain: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "scrape-secret-0123")
    await plain.start()
    assert (await get(plain.http_port)).status_code == 401
    wrong = await get(plain.http_port, {"Authorization": "Bearer guessed"})
    assert wrong.status_code == 401 and "invoicebot_requests_total" not in wrong.text
    right = await get(plain.http_port, {"Authorization": "Bearer scrape-secret-0123"})
    assert right.status_code == 200 and "invoicebot_requests_total" in right.text


async def test_without_a_token_only_a_loopback_peer_no_proxy_forwarded_reads_them(
    plain: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    await plain.start()
    assert (await get(plain.http_port)).status_code == 200
    proxied = await get(plain.http_port, {"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403 and "METRICS_TOKEN" in proxied.text


async def test_metrics_listen_serves_them_on_their_own_port_only(
    make_config, sink: SmtpSink, orm: str  # type: ignore[no-untyped-def]
) -> None:
    service = Service(make_config(INVOICEBOT_METRICS_LISTEN="127.0.0.1:0"), clock=fixed_clock())
    await service.start()
    try:
        assert (await get(service.http_port)).status_code == 404
        own = await get(service.metrics_port, {"X-Forwarded-For": "203.0.113.9"})
        assert own.status_code == 200 and "invoicebot_outbox_depth" in own.text
    finally:
        await service.stop()
