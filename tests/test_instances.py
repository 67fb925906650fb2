"""Many `serve` instances on one PostgreSQL database and one vault: email, Slack, Telegram
and alerts are each answered once while an instance is killed (SIGKILL) and restarted,
and what runs once (Telegram polling, Slack socket mode) moves to a survivor within its
lease time. (SQLite stays one instance: tests/test_startup.py refuses a second `serve`.)

The vault is one folder all instances share (VAULT below: where the S3 backend lands,
point it at an s3:// URL and run the same test).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.commands_cli import pdf_issuer
from tests import fake_slack
from tests.chat_harness import chat_env, signed_headers, slack_dm, telegram_update
from tests.conftest import TEST_KEYS
from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.fakes import SmtpSink
from tests.harness import load_e2e_data, request_mail, until
from tests.instances import Cluster, Instance
from tests.s3 import MotoS3, VaultPlace
from tests.scratchdb import PG_URL
from vault.clock import FixedClock
from vault.ingest.csv import import_csv
from vault.models import ChatInbound, InboundMessage, Lease, Notification, OutboxMessage
from vault.pdf import PdfRenderer
from vault.vocabulary import OutboxState

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL: set INVOICEBOT_TEST_DATABASE_URL=postgres://USER@HOST/DB "
    "to run several serve processes against one database")

TTL = 5  # seconds: instances.lease_ttl in these tests (renewed every 1.7 s)
CONTACTS = ("ap@acme.example", "ap@globex.example")


@pytest.fixture
def vault_env(moto_s3: MotoS3) -> dict[str, str]:
    """The one vault every instance reads and writes, as several machines would: a bucket
    on the local S3 server (INVOICEBOT_VAULT_URL and its endpoint)."""
    return VaultPlace.bucket(moto_s3).env


@pytest.fixture
async def cluster_env(orm: str, sink: SmtpSink, slack: FakeSlack, telegram: FakeTelegram,
                      renderer: PdfRenderer, make_config: Any, vault_env: dict[str, str],
                      tmp_path: Path) -> dict[str, str]:
    """Every instance's settings (Slack over HTTP, Telegram polling), the vault loaded."""
    env = chat_env(slack, telegram, sink, INVOICEBOT_NOTIFIER_ENABLED="true",
                   INVOICEBOT_TELEGRAM_MODE="polling") | {
        "INVOICEBOT_DATABASE_URL": orm, **vault_env,
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS, "INVOICEBOT_INSTANCES_LEASE_TTL": f"{TTL}s",
        "INVOICEBOT_EMAIL_MESSAGE_RATE": "6000/min"}
    del env["TELEGRAM_WEBHOOK_SECRET"]  # polling
    config = make_config(**env)
    await load_e2e_data(config, renderer)  # before any instance: as history
    # News, with their PDFs (an alert waits for its invoice's PDF): alerted at the start.
    await import_news("invoices", new_invoices(), config, renderer, tmp_path)
    return env


@pytest.fixture
async def cluster(cluster_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Cluster]:
    async with Cluster(cluster_env, tmp_path) as started:
        yield started


# ---- what the test sends --------------------------------------------------------------------

class Traffic:
    """Requests sent, by channel, and what each should be answered at."""

    def __init__(self, slack: FakeSlack, telegram: FakeTelegram) -> None:
        self.slack, self.telegram = slack, telegram
        self.mails: list[str] = []  # Message-IDs of the requests
        self.slack_chats: list[str] = []  # one DM channel per event
        self.telegram_chats: list[str] = []
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def mail(self, to: Instance, *, else_to: Instance | None = None) -> None:
        """A request; with `else_to`, sent there when `to` fails (the MX's next host)."""
        msg = request_mail(CONTACTS[self._next() % 2], "unpaid invoices")
        try:
            await to.send(msg)
        except OSError:
            if else_to is None:
                raise
            await else_to.send(msg)
        self.mails.append(str(msg["Message-ID"]))

    async def slack_event(self, to: Instance, *, again: Instance | None = None) -> None:
        """One DM event; with `again`, Slack's retry of it lands on another instance."""
        user = f"U0M{self._next():04d}"
        body = json.dumps(slack_dm(user, "unpaid"))
        for instance in (to, again) if again else (to,):
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"{instance.http}/slack/events", content=body,
                    headers={"Content-Type": "application/json", **signed_headers(body)})
            assert answer.status_code == 200, answer.text
        self.slack_chats.append("D" + user[1:])

    async def telegram_update(self) -> None:
        """Served by getUpdates to whichever instance holds the polling lease."""
        chat = 800000 + self._next()
        await self.telegram.push_update(telegram_update(chat, "/help"))
        self.telegram_chats.append(str(chat))

    async def all_answered(self, sink: SmtpSink) -> bool:
        replied = {str(m.message["In-Reply-To"]) for m in sink.messages}
        posted = {str(c.params.get("channel")) for c in self.slack.named("chat.postMessage")}
        sent = {str(c.params.get("chat_id")) for c in self.telegram.named("sendMessage")}
        return (replied >= set(self.mails) and posted >= set(self.slack_chats)
                and sent >= set(self.telegram_chats))


async def mixed(traffic: Traffic, to: list[Instance], rounds: int) -> None:
    for n in range(rounds):
        here, there = to[n % len(to)], to[(n + 1) % len(to)]
        await asyncio.gather(traffic.mail(here), traffic.mail(there),
                             traffic.slack_event(here, again=there if n % 2 else None),
                             traffic.telegram_update())


async def import_news(kind: str, rows: list[str], config: Any, renderer: PdfRenderer,
                      folder: Path) -> None:
    """CSV rows dated today: news, so their contacts are alerted (by some instance)."""
    path = folder / f"{kind}.csv"
    path.write_text("\n".join(rows) + "\n")
    async with pdf_issuer(config, renderer) as issue:
        await import_csv(kind, path, on_issued=issue, progress=False,
                         clock=FixedClock(datetime.now(UTC)))


def new_invoices() -> list[str]:
    today = date.today()
    return ["account_id,invoice_number,issue_date,due_date,currency,description,quantity,"
            "unit_price"] + [f"GLOBEX,INV-NEW-{n},{today},{today + timedelta(30)},USD,"
                             "Consulting,1,100.00" for n in range(3)]


def payment() -> list[str]:
    """Globex pays its March invoice in full today: paid, a status change."""
    return ["account_id,invoice_number,amount,paid_on", f"GLOBEX,INV-2026-0305,5000.00,"
            f"{date.today()}"]


# ---- what the test checks --------------------------------------------------------------------

async def polling_holder(cluster: Cluster, other_than: int = 0,
                         name: str = "telegram-polling") -> tuple[Instance, Lease]:
    """The instance holding lease `name` (other than the process `other_than`)."""
    async def held() -> Lease | None:
        lease = await Lease.get_or_none(name=name)
        if lease is None or lease.expires_at < datetime.now(UTC):
            return None
        return lease if int(lease.holder.split(":")[-2]) != other_than else None

    lease = await until(held, timeout=10 * TTL)
    return cluster.by_pid(int(lease.holder.split(":")[-2])), lease


async def kill_holder(cluster: Cluster, name: str) -> tuple[Instance, Lease]:
    """SIGKILL the instance holding lease `name`; returns it and the lease as it left it
    (its last renewal: a dead holder renews no more)."""
    victim, _ = await polling_holder(cluster, name=name)
    await victim.kill()
    dead = await Lease.get(name=name)
    assert dead.holder.split(":")[-2] == str(victim.pid), "the lease moved just before"
    return victim, dead


async def settled() -> bool:
    """Nothing received is left unprocessed, no alert unsent (instant ones: a digest's
    wait for their time), nothing queued is left unsent."""
    left = await InboundMessage.exclude(state="processed").count()
    left += await ChatInbound.exclude(state="processed").count()
    left += await Notification.filter(state="waiting", cadence="instant").count()
    return left == 0 and not await OutboxMessage.exclude(state=OutboxState.SENT).exists()


def once_each(wanted: list[str], got: list[str], what: str) -> None:
    counts = Counter(got)
    assert {w: counts[w] for w in wanted if counts[w] != 1} == {}, f"{what} not answered once"


async def test_three_instances_answer_every_request_and_alert_once_through_a_sigkill(
    cluster: Cluster, sink: SmtpSink, slack: FakeSlack, telegram: FakeTelegram,
    renderer: PdfRenderer, make_config: Callable[..., Any], vault_env: dict[str, str],
    tmp_path: Path,
) -> None:
    a, b, c = await cluster.start(3)
    traffic = Traffic(slack, telegram)
    await mixed(traffic, [a, b, c], 6)
    await until(lambda: traffic.all_answered(sink), timeout=60)

    # The instance polling Telegram dies in the middle of a burst, with no release.
    await import_news("payments", payment(), make_config(**vault_env),
                      renderer, tmp_path)
    victim, _ = await polling_holder(cluster)
    survivors = [i for i in (a, b, c) if i is not victim]
    burst = asyncio.gather(*(traffic.mail(victim, else_to=survivors[0]) for _ in range(8)))
    await asyncio.sleep(0.2)
    killed, dead = await kill_holder(cluster, "telegram-polling")
    assert killed is victim
    await burst  # each was answered 250 by the victim, or sent again to a survivor
    await mixed(traffic, survivors, 6)
    taker, after = await polling_holder(cluster, other_than=victim.pid)
    assert taker in survivors
    assert after.taken_at >= dead.expires_at  # never two pollers at once
    # ... and a survivor polls within the lease time: one renewal period (ttl/3) after
    # the expiry in theory; a whole ttl allowed for a busy machine.
    assert after.taken_at - dead.expires_at < timedelta(seconds=TTL)

    await cluster.restart(victim)
    await mixed(traffic, [a, b, c], 6)
    await until(lambda: traffic.all_answered(sink), timeout=120)
    await until(settled, timeout=120)

    replies = [str(m.message["In-Reply-To"]) for m in sink.messages]
    once_each(traffic.mails, list({str(m.message["Message-ID"]): r for m, r in zip(
        sink.messages, replies, strict=True)}.values()), "mail")
    once_each(traffic.slack_chats, [str(c.params["channel"])
                                    for c in slack.named("chat.postMessage")], "Slack")
    once_each(traffic.telegram_chats, [str(c.params["chat_id"])
                                       for c in telegram.named("sendMessage")], "Telegram")
    mail_rows = await OutboxMessage.filter(channel="email").values_list("message_id", "kind")
    delivered = Counter(str(m.message["Message-ID"]).strip("<>") for m in sink.messages)
    assert set(delivered) == {str(mid) for mid, _ in mail_rows}  # all sent, none made up
    # The killed instance may have had one mail in flight: sent, not yet marked sent.
    assert sum(delivered.values()) - len(delivered) <= 1, delivered.most_common(3)
    # Globex's contact is alerted at once (its tier's default): three new invoices, paid.
    assert sum(kind == "alert" for _, kind in mail_rows) >= 4
    assert await ChatInbound.filter(platform="slack").count() == len(traffic.slack_chats)
    assert "Traceback" not in "".join(i.log.read_text() for i in survivors), cluster.logged()


async def test_slack_socket_mode_moves_to_another_instance_when_its_holder_is_killed(
    cluster_env: dict[str, str], slack: FakeSlack, tmp_path: Path,
) -> None:
    env = cluster_env | {"INVOICEBOT_SLACK_MODE": "socket",
                         "SLACK_APP_TOKEN": fake_slack.APP_TOKEN}
    del env["SLACK_SIGNING_SECRET"]
    async with Cluster(env, tmp_path) as cluster:
        await cluster.start(2)
        await polling_holder(cluster, name="slack-socket")
        opened = len(slack.named("apps.connections.open"))  # one, unless it moved at start
        holder, dead = await kill_holder(cluster, "slack-socket")
        taker, after = await polling_holder(cluster, holder.pid, name="slack-socket")
        assert taker is not holder
        assert dead.expires_at <= after.taken_at < dead.expires_at + timedelta(seconds=TTL)
        await slack.wait_for_socket(opened + 1)  # the survivor's connection
        envelope = {"envelope_id": "env-after", "type": "events_api",
                    "payload": slack_dm("U0AFTER", "unpaid"), "accepts_response_payload": False,
                    "retry_attempt": 0, "retry_reason": ""}
        assert (await slack.socket_send(envelope))["envelope_id"] == "env-after"
        (answer,) = await slack.wait_for("chat.postMessage")
        assert answer.params["channel"] == "D0AFTER"
