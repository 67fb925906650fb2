"""`invoicebot config check`: the effective configuration, each value with its source.

Printed as TOML (so a line can be copied into config.toml), each value followed by where it
came from: the file, an INVOICEBOT_* variable, or the default. Secrets never appear: a URL's
password is masked and secrets kept in the environment show only whether they are set.
Then the whole configuration is validated, as `serve` would: exit 0 if it is good, else 2 with
the message naming the value and its origin.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, TextIO

from vault.config import ConfigError, load_config, load_settings
from vault.config_sources import Origins

# Secrets live only in the environment (never in config.toml); shown as set or not set.
SECRET_VARIABLES = (
    "INVOICEBOT_SECRET_KEYS", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_KEY",
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_OIDC_CLIENT_SECRET",
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "INVOICEBOT_SMTP_PASSWORD", "METRICS_TOKEN",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",  # an s3:// vault (vault.storage_s3)
)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s]*@", re.IGNORECASE)


def add_parser(sub: Any) -> None:
    config = sub.add_parser("config", help="show and check the effective configuration")
    actions = config.add_subparsers(dest="config_command", required=True)
    actions.add_parser("check", help="print every setting with its source (file, env, "
                                     "default), secrets masked, then validate")


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    env = dict(os.environ)
    try:
        merged, origins = load_settings(args.config, env)
    except ConfigError as exc:
        print(f"invoicebot: {exc}", file=err)
        return 2
    out.write(render(merged, origins, env))
    try:
        load_config(args.config, env)
    except ConfigError as exc:
        print(f"invoicebot: {exc}", file=err)
        return 2
    print("# configuration is valid", file=out)
    return 0


def render(merged: dict[str, dict[str, Any]], origins: Origins, env: dict[str, str]) -> str:
    lines = [f"# config file: {origins.path}"
             + ("" if origins.explicit_file or os.path.exists(origins.path) else " (absent)")]
    for section, keys in merged.items():
        lines.append(f"\n[{section}]")
        for key, value in keys.items():
            lines.append(f"{key} = {_toml(value)}  # {origins.kind(section, key)}")
    lines.append("\n# secrets (environment only)")
    for name in SECRET_VARIABLES:
        lines.append(f"# {name}: {'set' if env.get(name, '').strip() else 'not set'}")
    return "\n".join(lines) + "\n"


def mask(text: str) -> str:
    """postgres://app:s3cret@db/invoices -> postgres://app:***@db/invoices"""
    return _URL_PASSWORD.sub(r"\g<scheme>:***@", text)


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(mask(value), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value)  # booleans and numbers are written alike in TOML and JSON
