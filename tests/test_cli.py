"""The `invoicebot` command line, run as operators run it: a separate process."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.service import Service
from tests.conftest import TEST_KEYS
from tests.fakes import SmtpSink
from tests.harness import DATA, Running, fixed_today, request_mail


@dataclass
class Cli:
    env: dict[str, str]
    config: Path

    async def run(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(self.config), *args,
            env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def load(self, *kinds: str) -> None:
        for kind in kinds:
            code, _, err = await self.run("import", kind, str(DATA / f"{kind}.csv"),
                                          "--no-progress")
            assert code == 0, err


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    config = tmp_path / "config.toml"
    config.write_text('[http]\npublic_url = "http://links.invoicebot.test"\n')
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")
    } | {
        "INVOICEBOT_DATABASE_URL": database_url,
        "INVOICEBOT_VAULT_PATH": str(tmp_path / "vault"),
        "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{tmp_path / 'outbox'}",
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
    }
    return Cli(env=env, config=config)


async def test_ask_prints_the_reply_with_a_link(cli: Cli, orm: str) -> None:
    await cli.load("accounts", "contacts", "invoices")
    code, out, _ = await cli.run("ask", "--from", "ap@acme.example", "invoice", "INV-2026-0301")
    assert code == 0
    assert "INV-2026-0301" in out
    assert "http://links.invoicebot.test/d/" in out
    assert "PO number: PO-7781" in out


async def test_ask_for_someone_not_on_file_exits_2(cli: Cli, orm: str) -> None:
    code, out, err = await cli.run("ask", "--from", "nobody@example.org", "unpaid")
    assert code == 2
    assert "nobody@example.org" in err and "not an active contact" in err
    assert out == ""


async def test_audit_export_lists_what_was_asked(cli: Cli, orm: str) -> None:
    await cli.load("accounts", "contacts", "invoices")
    await cli.run("ask", "--from", "ap@acme.example", "unpaid")
    code, out, _ = await cli.run("audit", "export", "--account", "ACME")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    answered = [r for r in rows if r["action"] == "bot.request.answered"]
    assert [r["contact"] for r in answered] == ["ap@acme.example"]
    assert all(r["account_id"] == "ACME" for r in rows)
    code, out, _ = await cli.run("audit", "export", "--account", "GLOBEX")
    assert "bot.request.answered" not in out


async def test_a_broken_row_exits_2_naming_the_line_and_writes_nothing(
    cli: Cli, orm: str, tmp_path: Path
) -> None:
    await cli.load("accounts")
    bad = tmp_path / "march.csv"
    rows = (DATA / "invoices.csv").read_text().splitlines()
    rows[3] = rows[3].replace("2026-03-18", "2026-02-30")
    bad.write_text("\n".join(rows) + "\n")
    code, _, err = await cli.run("import", "invoices", str(bad), "--no-progress")
    assert code == 2
    assert "march.csv line 4" in err and "2026-02-30" in err
    code, out, _ = await cli.run("audit", "export")
    assert "vault.import.completed" in out  # the accounts import
    assert out.count("vault.import.completed") == 1  # and nothing from the broken file


async def test_a_wrong_config_key_exits_2_naming_it(cli: Cli) -> None:
    cli.config.write_text("[links]\nlifetime = '7d'\n")
    code, _, err = await cli.run("migrate")
    assert code == 2
    assert "links.lifetime" in err and str(cli.config) in err


async def test_bad_usage_exits_2(cli: Cli) -> None:
    code, _, err = await cli.run("import", "customers", "x.csv")
    assert code == 2
    assert "invalid choice" in err


async def test_an_import_while_the_service_runs_is_seen_without_restart(
    cli: Cli, make_config, sink: SmtpSink, orm: str  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
                         INVOICEBOT_VAULT_PATH=cli.env["INVOICEBOT_VAULT_PATH"])
    service = Service(config, today=fixed_today)
    await service.start()
    try:
        await cli.load("accounts", "contacts", "invoices")  # another process, same database
        running = Running(service=service, sink=sink, config=config)
        await running.send(request_mail("ap@acme.example", "invoices March"))
        await sink.wait_for(1)
        body = sink.messages[0].message.get_body(preferencelist=("plain",))
        assert body is not None
        assert "INV-2026-0301" in body.get_content()  # type: ignore[attr-defined]
    finally:
        await service.stop()


async def test_serve_with_a_chat_channel_but_no_token_exits_2_naming_it(
    cli: Cli, orm: str
) -> None:
    cli.env["INVOICEBOT_TELEGRAM_ENABLED"] = "true"
    cli.env.pop("TELEGRAM_BOT_TOKEN", None)
    code, _, err = await cli.run("serve")
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN" in err
