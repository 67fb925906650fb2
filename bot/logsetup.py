"""Logging for every command: `[log] level` and `format` ("text" for people, "json" for a
log system: one object per line with time, level, logger, message and, for each handled
request, request_id, channel, contact_id, outcome and duration_ms; bot.pipeline logs it).

Every handler strips link tokens (vault.links.RedactTokens); request lines carry no text.
Libraries stay quiet below WARNING except aiosmtpd's protocol chatter ("mail.log"), which
shows at DEBUG only, when log.level is DEBUG.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from vault.config import LogConfig
from vault.links import RedactTokens

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Routine lines at INFO ("job executed", "ORM shutdown") every tick bury what matters.
CHATTY = ("apscheduler", "tortoise", "slack_bolt", "slack_sdk", "telegram", "httpx",
          "aiohttp.access")
# What a request line adds to the JSON object (set by bot.pipeline as `extra`).
REQUEST_FIELDS = ("request_id", "channel", "contact_id", "outcome", "duration_ms")


class JsonLines(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in REQUEST_FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(config: LogConfig | None = None) -> None:
    """(Re)configure the root logger; call again once the config file is read."""
    config = config or LogConfig()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if config.format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(config.level)
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # SMTP protocol chatter (every command, MAIL FROM and RCPT TO) only when asked for.
    smtp_level = logging.DEBUG if config.level == "DEBUG" else logging.WARNING
    logging.getLogger("mail.log").setLevel(smtp_level)
