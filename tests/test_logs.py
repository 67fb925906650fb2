"""Logs an operator's log system can read: `[log] format = "json"` gives one JSON object per
line, and each handled request one line with its id, channel, contact, outcome and duration,
never its text, a link token or a code."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from pathlib import Path

import pytest

from bot import logsetup
from tests import fake_slack
from tests.fake_slack import FakeSlack
from tests.test_cli import Cli, make_cli
from vault.config import LogConfig

TOKEN = re.compile(r"/d/([A-Za-z0-9._-]+)")


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return make_cli(tmp_path, database_url)


async def test_a_request_gives_one_json_line_with_its_fields_and_no_token(
    cli: Cli, orm: str
) -> None:
    await cli.load("accounts", "contacts", "invoices")
    cli.env["INVOICEBOT_LOG_FORMAT"] = "json"
    code, out, err = await cli.run("ask", "--from", "ap@acme.example", "invoice",
                                   "INV-2026-0301")
    assert code == 0
    (token,) = TOKEN.findall(out)
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # all JSON
    (request,) = [line for line in lines if line["logger"] == "invoicebot.request"]
    assert request["channel"] == "cli" and request["outcome"] == "answered"
    assert isinstance(request["contact_id"], int) and request["duration_ms"] >= 0
    assert "request_id" in request and request["level"] == "INFO"
    assert token not in err and "INV-2026-0301" not in err  # no token, no message text


def test_a_json_line_has_link_tokens_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    logsetup.configure(LogConfig(format="json", level="INFO"))
    try:
        logging.getLogger("invoicebot.test").info("GET %s", "/d/abc.def-ghi")
        (line,) = capsys.readouterr().err.splitlines()
        assert json.loads(line)["message"] == "GET /d/<redacted>"
    finally:
        logging.getLogger().handlers.clear()


def test_smtp_protocol_chatter_shows_only_at_debug() -> None:
    try:
        logsetup.configure(LogConfig(level="INFO"))
        assert not logging.getLogger("mail.log").isEnabledFor(logging.INFO)
        logsetup.configure(LogConfig(level="DEBUG"))
        assert logging.getLogger("mail.log").isEnabledFor(logging.DEBUG)
    finally:
        logging.getLogger().handlers.clear()
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("mail.log").setLevel(logging.NOTSET)


async def test_serve_with_slack_starts_without_a_warning(
    cli: Cli, orm: str, unused_tcp_port_factory  # type: ignore[no-untyped-def]
) -> None:
    async with FakeSlack() as slack:
        env = cli.env | {
            "INVOICEBOT_SLACK_ENABLED": "true", "INVOICEBOT_SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": fake_slack.BOT_TOKEN,
            "SLACK_SIGNING_SECRET": fake_slack.SIGNING_SECRET,
            "INVOICEBOT_HTTP_LISTEN": f"127.0.0.1:{unused_tcp_port_factory()}",
            "INVOICEBOT_EMAIL_LISTEN": f"127.0.0.1:{unused_tcp_port_factory()}",
            "PYTHONUNBUFFERED": "1",  # the start-up line through a pipe, when it is printed
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(cli.config), "serve", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        assert process.stdout is not None
        printed = []
        try:
            async with asyncio.timeout(60):
                while not any("invoicebot: SMTP on" in line for line in printed):
                    line = (await process.stdout.readline()).decode()
                    assert line, "serve ended early:\n" + "".join(printed)
                    printed.append(line)
        finally:
            # Only start-up is looked at here; stopping cleanly is tested with start/stop.
            process.kill()
            await process.wait()
    # Our own warnings are the operator's business (the test database is 0644); a
    # library's, or a Python warning, would only teach them to skip warnings.
    foreign = [line for line in printed if ("WARNING" in line or "Warning" in line)
               and " WARNING invoicebot." not in line]
    assert foreign == [], "".join(printed)
