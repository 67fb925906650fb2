"""Logs an operator's log system can read: `[log] format = "json"` gives one JSON object per
line, and each handled request one line with its id, channel, contact, outcome and duration,
never its text, a link token or a code."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from bot import logsetup
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
