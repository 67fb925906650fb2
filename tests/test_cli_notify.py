"""`invoicebot notify show|set|test`, run as operators run it: a separate process."""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest

from tests.conftest import TEST_KEYS
from tests.fakes import SmtpSink
from tests.s3 import suite_vault_env
from tests.test_cli import Cli
from vault.clock import SYSTEM
from vault.models import AuditEvent, ChatLink, Contact, Escalation, OutboxMessage


def make_cli(tmp_path: Path, database_url: str, **env: str) -> Cli:
    config = tmp_path / "config.toml"
    config.write_text('[http]\npublic_url = "https://links.invoicebot.test"\n')
    base = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")} | {
        "INVOICEBOT_DATABASE_URL": database_url,
        "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{tmp_path / 'outbox'}",
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
    } | suite_vault_env(tmp_path / "vault")
    return Cli(env=base | env, config=config)


@pytest.fixture
async def cli(tmp_path: Path, database_url: str, orm: str) -> Cli:
    tool = make_cli(tmp_path, database_url)
    await tool.load("accounts", "contacts")
    return tool


async def test_show_prints_the_tier_defaults(cli: Cli) -> None:
    code, out, _ = await cli.run("notify", "show", "--contact", "AP@acme.example")
    assert code == 0
    assert out.splitlines() == [
        "ap@acme.example (ACME Freight GmbH, tier gold)",
        "  Channels: email",
        "  How: a daily digest at 08:00",
        "  About: new invoices, status changes, invoices due soon",
        "  These are your account's defaults.",
    ]


async def test_set_changes_cadence_events_and_quiet_hours(cli: Cli) -> None:
    code, out, err = await cli.run("notify", "set", "--contact", "ap@globex.example",
                                   "--cadence", "weekly", "--events", "issued,overdue",
                                   "--quiet", "20:00-07:00")
    assert code == 0, err
    assert "  How: a weekly digest on Monday at 08:00" in out
    assert "  About: new invoices, overdue invoices" in out
    assert "  Quiet hours: 20:00-07:00 (Eastern Time); instant alerts wait until they end" \
        in out
    change = await AuditEvent.get(action="notifier.preferences.changed")
    assert change.data["via"] == "cli"

    code, out, _ = await cli.run("notify", "set", "--contact", "ap@globex.example",
                                 "--quiet", "off", "--stop")
    assert code == 0 and "Alerts are stopped." in out
    code, out, _ = await cli.run("notify", "set", "--contact", "ap@globex.example", "--resume")
    assert "Quiet hours" not in out and "How: a weekly digest" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contact", "nobody@example.com"], "--contact: 'nobody@example.com' is not a contact"),
        (["--contact", "ap@acme.example", "--quiet", "25:00-07:00"],
         "--quiet: '25:00' is not a time of day"),
        (["--contact", "ap@acme.example", "--events", "issued,weather"],
         "--events: 'weather' is not an event"),
        (["--contact", "ap@acme.example", "--channels", "fax"],
         "--channels: 'fax' is not a channel"),
        (["--contact", "ap@acme.example", "--channels", "telegram"],
         "--channels: telegram is not linked for ap@acme.example"),
    ],
    ids=["unknown-contact", "bad-quiet", "bad-event", "bad-channel", "not-linked"],
)
async def test_bad_input_exits_2_naming_the_option(
    cli: Cli, args: list[str], message: str
) -> None:
    code, _, err = await cli.run("notify", "set", *args)
    assert code == 2
    assert message in err
    assert not await AuditEvent.filter(action="notifier.preferences.changed").exists()


async def test_test_sends_an_alert_on_each_channel_and_reports_it(
    cli: Cli, tmp_path: Path
) -> None:
    contact = await Contact.get(email="ap@acme.example")
    await ChatLink.create(contact=contact, platform="telegram", user_id="3", chat_id="33",
                          linked_at=SYSTEM.now())
    code, out, err = await cli.run("notify", "test", "--contact", "ap@acme.example")
    assert code == 0, err
    email_line, telegram_line = out.splitlines()
    assert email_line.startswith("email ap@acme.example: delivered (Message-ID <")
    assert telegram_line == "Telegram 33: queued: the running service delivers it"

    (message,) = mailbox.Maildir(tmp_path / "outbox").values()
    # ACME's contact has no locale of her own: the account's de_DE (README Languages).
    assert message["Subject"] == "Testbenachrichtigung von Northwind Supply Co."
    assert message["Message-ID"] in email_line
    assert message["List-Unsubscribe"].startswith("<https://links.invoicebot.test/u/")
    assert await OutboxMessage.filter(channel="telegram", kind="test", state="pending").exists()


async def test_test_reports_a_relay_refusal_and_exits_1(
    tmp_path: Path, database_url: str, orm: str, sink: SmtpSink
) -> None:
    tool = make_cli(tmp_path, database_url,
                    INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}")
    await tool.load("accounts", "contacts")
    sink.answer("550 5.1.1 no such mailbox", at="RCPT")
    code, out, _ = await tool.run("notify", "test", "--contact", "ap@globex.example")
    assert code == 1
    assert out.strip() == ("email ap@globex.example: refused, will not retry (AR is told): "
                           "550 5.1.1 no such mailbox")
    assert (await Escalation.get()).kind == "dead_delivery"
