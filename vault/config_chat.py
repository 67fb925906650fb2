"""The [slack] and [telegram] sections: which chat channels run, and their secrets.

Secrets come from the environment only (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
SLACK_APP_TOKEN, SLACK_OIDC_CLIENT_ID/_SECRET, TELEGRAM_BOT_TOKEN,
TELEGRAM_WEBHOOK_SECRET); a channel that is enabled without the ones it needs stops
start-up with a message naming the variable. Secrets are kept out of repr().

The Sign-in-with-Slack credentials are SLACK_OIDC_CLIENT_ID/_SECRET, not slack-bolt's
SLACK_CLIENT_ID/_SECRET: with those set, slack-bolt switches itself to the multi-workspace
OAuth installation flow, which this single-workspace app does not use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vault.config import ConfigError, _bool, _text, _url
from vault.config_sources import Origins

_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


@dataclass(frozen=True)
class SlackConfig:
    """An enabled Slack channel. Secrets come from the environment and are kept out of
    repr(), so a logged config never shows them."""

    mode: str  # http (Events API on our server) or socket (Socket Mode)
    api_url: str  # always ends with "/", as slack_sdk's base_url must
    authorize_url: str
    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False, default="")  # http mode
    app_token: str = field(repr=False, default="")  # socket mode
    client_id: str = ""  # optional: "Sign in with Slack" one-click linking
    client_secret: str = field(repr=False, default="")


@dataclass(frozen=True)
class TelegramConfig:
    """An enabled Telegram channel; secrets from the environment, out of repr()."""

    mode: str  # webhook (on our server) or polling
    api_url: str  # without a trailing slash; PTB appends /bot<token>/<method>
    webhook_url: str
    bot_username: str
    bot_token: str = field(repr=False)
    webhook_secret: str = field(repr=False, default="")  # webhook mode
    # Seconds between two messages to one chat: Telegram's limit (as ChatPacing's default in
    # bot.channels.telegram_send), not a setting; tests shorten it so they do not wait.
    per_chat_period: float = 1.0


def _secret(env: dict[str, str], name: str, why: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set; it is required {why}")
    return value


def _mode(value: Any, where: str, modes: tuple[str, ...]) -> str:
    text = _text(value, where)
    if text not in modes:
        raise ConfigError(f"{where}: {text!r} must be one of {', '.join(modes)}")
    return text


def _slack(section: dict[str, Any], at: Origins, env: dict[str, str]) -> SlackConfig | None:
    if not _bool(section["enabled"], at("slack", "enabled")):
        return None
    mode = _mode(section["mode"], at("slack", "mode"), ("http", "socket"))
    client_id = env.get("SLACK_OIDC_CLIENT_ID", "").strip()
    return SlackConfig(
        mode=mode,
        api_url=_url(section["api_url"], at("slack", "api_url")) + "/",
        authorize_url=_url(section["authorize_url"], at("slack", "authorize_url")),
        bot_token=_secret(env, "SLACK_BOT_TOKEN", "when slack.enabled is true"),
        signing_secret=_secret(env, "SLACK_SIGNING_SECRET", 'when slack.mode is "http"')
        if mode == "http" else "",
        app_token=_secret(env, "SLACK_APP_TOKEN", 'when slack.mode is "socket"')
        if mode == "socket" else "",
        client_id=client_id,
        client_secret=_secret(env, "SLACK_OIDC_CLIENT_SECRET", "when SLACK_OIDC_CLIENT_ID is set")
        if client_id else "",
    )


def _telegram(
    section: dict[str, Any], public_url: str, at: Origins, env: dict[str, str]
) -> TelegramConfig | None:
    if not _bool(section["enabled"], at("telegram", "enabled")):
        return None
    mode = _mode(section["mode"], at("telegram", "mode"), ("webhook", "polling"))
    token = _secret(env, "TELEGRAM_BOT_TOKEN", "when telegram.enabled is true")
    secret = ""
    if mode == "webhook":
        secret = _secret(env, "TELEGRAM_WEBHOOK_SECRET", 'when telegram.mode is "webhook"')
        if not _TELEGRAM_SECRET.match(secret):
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET: use 16 to 256 characters of "
                              "A-Z, a-z, 0-9, _ and - (what Telegram accepts)")
    hook = str(section["webhook_url"]).strip() or f"{str(public_url).rstrip('/')}/telegram/webhook"
    return TelegramConfig(
        mode=mode,
        api_url=_url(section["api_url"], at("telegram", "api_url")),
        webhook_url=_url(hook, at("telegram", "webhook_url")),
        bot_username=str(section["bot_username"]).strip().lstrip("@"),
        bot_token=token,
        webhook_secret=secret,
    )


def chat_channels(
    m: dict[str, dict[str, Any]], at: Origins, env: dict[str, str]
) -> dict[str, Any]:
    """The Config fields for the chat channels: None for a disabled one."""
    return {
        "slack": _slack(m["slack"], at, env),
        "telegram": _telegram(m["telegram"], m["http"]["public_url"], at, env),
    }
