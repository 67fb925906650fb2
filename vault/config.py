"""Configuration: config.toml, overridden by INVOICEBOT_<SECTION>_<KEY>, secrets from env only.

Every problem raises ConfigError naming the file or variable and the key, so an operator
can fix it without reading code.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stdnum import bic, iban
from stdnum.exceptions import ValidationError

from vault.config_http import DEFAULTS as HTTP_LIMITS
from vault.config_http import HttpLimits, http_limits
from vault.config_instances import lease_ttl
from vault.config_sources import (
    ConfigError as ConfigError,  # re-exported: callers catch vault.config.ConfigError
)
from vault.config_sources import (
    Origins,
    apply_env,
    config_path,
    merge,
    read_toml,
    whole_number,
)
from vault.config_vault import DEFAULTS as VAULT
from vault.config_vault import VaultConfig, vault_config
from vault.i18n import LANGUAGES, language_of

if TYPE_CHECKING:
    from vault.config_access import StepUpRules
    from vault.config_alerts import AlertsConfig
    from vault.config_chat import SlackConfig, TelegramConfig
    from vault.config_mail import MailLimits


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}

# section -> key -> default. The defaults make an empty config.toml a working demo.
DEFAULTS: dict[str, dict[str, Any]] = {
    "database": {"url": "sqlite://var/invoicebot.db"},
    "vault": {**VAULT},  # url (or its older name, path) and the s3_* keys: vault.config_vault
    "seller": {
        "name": "Northwind Supply Co.",
        "address": "",
        "tax_id": "",
        "payment_terms": "Payment due by the due date shown.",
        "timezone": "UTC",
        "fiscal_year_start": 1,  # month the seller's fiscal year starts in ("FY2025")
        "logo_url": "",  # https URL of a logo for the HTML email header; "" none
        "accent_color": "#1f6feb",  # the HTML email's bar, buttons and links
        "e_invoicing": True,  # embed Factur-X (EN 16931) XML in each invoice PDF
        "iban": "",  # the account buyers pay into, for the e-invoice's payment means
        "bic": "",
        # true: every document label also in English beside the buyer's language
        # ("Rechnung / Invoice"), for buyers whose auditors read English
        "documents_also_english": False,
        # The language AR reads its digest in (vault.i18n: en de fr es it nl pt).
        "locale": "en",
    },
    "http": {
        "listen": "127.0.0.1:8080", "public_url": "http://127.0.0.1:8080",
        "min_free_disk": "500MB",  # /readyz answers 503 below this much free space
        # Reverse proxies (addresses or networks) whose X-Forwarded-For names the client,
        # for audit rows and rate limits; from anyone else the header is ignored.
        "trusted_proxies": [],
        **HTTP_LIMITS,  # connection and body limits (vault.config_http)
    },
    "links": {"ttl": "7d"},
    # The contact's account page (/a/{token} starts a session, pages under /account/).
    "access": {
        "session_idle": "30m",  # a session unused this long ends
        "session_max": "12h",  # and none lives longer than this
        "session_rate": "120/min",  # requests per session, as for api.rate
        # Step-up: a code to the address on file before documents leave (vault.stepup).
        "step_up": "never",  # or "downloads", "session"; an account's step_up column wins
        "step_up_tiers": [],  # "TIER=LEVEL" each: the default for accounts of that tier
        "remember_device": "30d",  # a browser that passed is not asked again this long
        # Access watching (vault.access_watch): when a contact becomes an AR item.
        "watch_baseline": "28d",  # "their usual": the daily average over this period
        "watch_factor": 10,  # a day with this many times the usual downloads or views
        "watch_downloads_floor": 50,  # and at least this many downloads,
        "watch_views_floor": 300,  # or this many page views
        "watch_networks_within": "10m",  # one session from 2 networks this close together
        "watch_refused_codes": 10,  # wrong step-up codes within a day
        "watch_quiet": "7d",  # step-up stays required this long after the last hit
    },
    "email": {
        "listen": "127.0.0.1:2525",
        "addresses": ["invoices@localhost"],
        "from": "invoices@localhost",
        "outbound": "maildir:var/outbox",
        "trusted_relays": ["127.0.0.1/32", "::1/128"],
        "authserv_id": "invoicebot.local",
        "require_authentication": True,
        "verify_dkim": False,
        "max_size": "10MB",
        "notice_interval": "1d",
        "answer_thanks": True,  # "thanks!" alone gets a short answer; false: none at all
        # STARTTLS on our listener: PEM certificate chain and key; "" offers no STARTTLS.
        "tls_cert": "", "tls_key": "",
        "require_tls": False,  # refuse MAIL until STARTTLS (needs tls_cert)
        # The outbound relay (smtp://): STARTTLS is used when offered, the certificate always
        # verified (against the system's CAs, or this PEM bundle for a private CA).
        "outbound_ca_file": "",
        "outbound_require_tls": False,  # refuse to send to a relay that does not offer it
        # Connections to the relay at once, one message each (notifier.smtp_pool).
        "outbound_connections": 8,
        # What one peer, connection or message may cost (vault.config_mail says why).
        "idle_timeout": "30s", "command_timeout": "60s", "max_connections": 200,
        "max_connections_per_peer": 10, "message_rate": "30/min", "max_parts": 500,
        "max_depth": 20, "max_headers": 200, "parse_timeout": "10s", "parse_memory": "512MB",
    },
    "slack": {
        "enabled": False,
        "mode": "http",
        "api_url": "https://slack.com/api/",
        # "Sign in with Slack" for the one-click link page (SLACK_OIDC_CLIENT_ID/_SECRET).
        "authorize_url": "https://slack.com/openid/connect/authorize",
    },
    "telegram": {
        "enabled": False,
        "mode": "webhook",
        "api_url": "https://api.telegram.org",
        "webhook_url": "",  # empty: {http.public_url}/telegram/webhook
        "bot_username": "",  # empty: asked from Telegram (getMe) at start
    },
    "notifier": {
        "enabled": True, "tick": "30s",
        # alerts: validated in vault.config_alerts
        "due_soon_days": 3, "digest_time": "08:00", "digest_weekday": "monday",
        "default_quiet_hours": "", "alert_window": "7d",
    },
    "ingest": {"watch": ""},  # a feed folder `serve` imports CSV files from; "": off
    # The ingestion API (/api/v1): requests per API key, as "N/s", "N/min" or "N/h".
    "api": {"rate": "600/min"},
    # Stripe webhooks and `invoicebot stripe sync` (vault.stripe). Secrets from the
    # environment: STRIPE_WEBHOOK_SECRET (comma-separated) and STRIPE_API_KEY.
    "stripe": {
        "enabled": False, "api_base": "https://api.stripe.com",
        # where our account_id is in a Stripe customer; without it: the customer id
        "account_id_from": "metadata.account_id",
    },
    # How long stored data is kept (vault.retention, run hourly by `serve`).
    "retention": {
        "inbound": "30d",  # received mail, once processed
        "unknown_sender": "7d",  # then mail from unknown senders keeps headers and size only
        "audit": "400d",
        "outbox": "30d",  # sent or dead outgoing messages
        "grants": "30d",  # download grants, counted from their expiry
    },
    "ar": {
        "recipients": ["ar@localhost"], "digest_at": "08:00",
        "escalate_at_once": ["dispute", "person"], "slack_channel": "",
    },
    # GET /metrics (vault.metrics_http): "" on the main HTTP port (METRICS_TOKEN, or
    # loopback only); "HOST:PORT" its own listener.
    "metrics": {"listen": ""},
    "log": {"format": "text", "level": "INFO"},  # format: text or json (one object a line)
    # Several `serve` on one PostgreSQL database (vault.leases): what runs once (Slack socket
    # mode, Telegram polling) moves to another instance this long after its holder died.
    "instances": {"lease_ttl": "15s"},
}


def parse_duration(value: str, where: str) -> timedelta:
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(f"{where}: {value!r} is not a duration (use e.g. 30s, 15m, 2h, 7d)")
    return timedelta(seconds=int(match[1]) * _DURATION_UNITS[match[2]])


def parse_size(value: str, where: str) -> int:
    match = _SIZE.match(str(value))
    if not match:
        raise ConfigError(f"{where}: {value!r} is not a size (use e.g. 10MB)")
    return int(match[1]) * _SIZE_UNITS[(match[2] or "b").lower()]


def parse_hostport(value: str, where: str) -> tuple[str, int]:
    host, sep, port = str(value).rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ConfigError(f"{where}: {value!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class EmailConfig:
    listen: tuple[str, int]
    addresses: frozenset[str]
    sender: str
    outbound: str
    trusted_relays: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    authserv_id: str
    require_authentication: bool
    verify_dkim: bool
    max_size: int
    notice_interval: timedelta
    # The From display name of every mail we send: the seller's name (seller.name).
    sender_name: str = ""
    answer_thanks: bool = True  # a short "you're welcome" to a thanks; false: no reply
    tls_cert: Path | None = None  # STARTTLS offered when set (with tls_key)
    tls_key: Path | None = None
    require_tls: bool = False
    outbound_ca_file: Path | None = None
    outbound_require_tls: bool = False
    outbound_connections: int = 8
    # AUTH at the relay, from INVOICEBOT_SMTP_USERNAME / INVOICEBOT_SMTP_PASSWORD.
    outbound_username: str = ""
    outbound_password: str = field(default="", repr=False)
    limits: MailLimits = field(default_factory=lambda: _mail_module().MailLimits())


@dataclass(frozen=True)
class SellerConfig:
    name: str
    address: str
    tax_id: str
    payment_terms: str
    timezone: ZoneInfo
    fiscal_year_start: int = 1  # month 1-12; FY2025 is the fiscal year ending in 2025
    logo_url: str = ""  # https, shown in the HTML email's header
    accent_color: str = "#1f6feb"  # DEFAULT_ACCENT; white button text stays readable on it
    e_invoicing: bool = True  # Factur-X XML embedded in each invoice PDF (vault.einvoice)
    iban: str = ""  # compact, checked: "DE89370400440532013000"
    bic: str = ""
    documents_also_english: bool = False  # labels as "Rechnung / Invoice" (vault.words)
    locale: str = "en"  # AR's language: its digest and at-once escalations


@dataclass(frozen=True)
class ApiRate:
    """`requests` per `per`, per API key (a token bucket holding `requests` at most)."""

    requests: int
    per: timedelta


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|min|h)\s*$")
_RATE_UNITS = {"s": 1, "min": 60, "h": 3600}


def parse_rate(value: Any, where: str) -> ApiRate:
    match = _RATE.match(str(value))
    if not match or int(match[1]) < 1:
        raise ConfigError(f"{where}: {value!r} is not a rate (use e.g. 600/min, 10/s, 5000/h)")
    return ApiRate(int(match[1]), timedelta(seconds=_RATE_UNITS[match[2]]))


@dataclass(frozen=True)
class RetentionConfig:
    """[retention]: how long each kind of stored data is kept (vault.retention)."""

    inbound: timedelta = timedelta(days=30)
    unknown_sender: timedelta = timedelta(days=7)
    audit: timedelta = timedelta(days=400)
    outbox: timedelta = timedelta(days=30)
    grants: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class StripeConfig:
    api_base: str = "https://api.stripe.com"
    account_id_from: str = "metadata.account_id"  # a dotted path into the customer
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)  # any one may sign
    api_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class LogConfig:
    format: str = "text"  # "json": one JSON object per line (bot.logsetup)
    level: str = "INFO"


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _observability(m: dict[str, dict[str, Any]], at: Origins) -> dict[str, Any]:
    """[metrics] and [log], checked: the keys Config takes for them."""
    listen = m["metrics"]["listen"]
    if not isinstance(listen, str):
        raise ConfigError(f"{at('metrics', 'listen')}: expected 'HOST:PORT' or '', got {listen!r}")
    listen = listen.strip()
    fmt = str(m["log"]["format"]).strip().lower()
    if fmt not in LOG_FORMATS:
        raise ConfigError(f"{at('log', 'format')}: {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    level = str(m["log"]["level"]).strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{at('log', 'level')}: {level!r} is not one of {', '.join(LOG_LEVELS)}")
    return {"metrics_listen": parse_hostport(listen, at("metrics", "listen")) if listen
            else None, "log": LogConfig(fmt, level)}


@dataclass(frozen=True)
class AccessConfig:
    """[access]: sessions on the contact's account page."""

    session_idle: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=12)
    session_rate: ApiRate = field(default_factory=lambda: ApiRate(120, timedelta(minutes=1)))
    # step_up, step_up_tiers, remember_device and the watch_* keys (vault.config_access)
    step_up: StepUpRules = field(default_factory=lambda: _access_module().StepUpRules())


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    source: str
    database_url: str = field(repr=False)  # a PostgreSQL URL can hold a password
    vault: VaultConfig  # where documents are stored: a folder or an S3 bucket
    seller: SellerConfig
    http_listen: tuple[str, int]
    public_url: str
    link_ttl: timedelta
    email: EmailConfig
    notifier_enabled: bool
    notifier_tick: timedelta
    ar_recipients: tuple[str, ...]
    secret_keys: tuple[str, ...] = field(default=(), repr=False)  # never in a log line
    api_rate: ApiRate = field(default_factory=lambda: ApiRate(600, timedelta(minutes=1)))
    slack: SlackConfig | None = None  # None: the channel is disabled
    telegram: TelegramConfig | None = None
    alerts: AlertsConfig = field(default_factory=lambda: _alerts_module().AlertsConfig())
    ingest_watch: Path | None = None  # the feed folder `serve` watches; None: off
    min_free_disk: int = 500 * 1024 * 1024  # bytes free under a vault folder for /readyz
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    stripe: StripeConfig | None = None  # None: stripe.enabled is false
    # Proxies whose X-Forwarded-For is believed (http.trusted_proxies); empty: none.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    metrics_listen: tuple[str, int] | None = None  # None: /metrics on the main HTTP port
    log: LogConfig = field(default_factory=lambda: LogConfig())
    http_limits: HttpLimits = field(default_factory=HttpLimits)
    access: AccessConfig = field(default_factory=lambda: AccessConfig())
    lease_ttl: timedelta = timedelta(seconds=15)  # [instances] (vault.leases)


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the TOML file, apply env overrides, validate; errors name the value's origin."""
    env = dict(os.environ if env is None else env)
    merged, origins = load_settings(path, env)
    return _build(merged, origins, env)


def load_settings(path: str | Path | None, env: dict[str, str]
                  ) -> tuple[dict[str, dict[str, Any]], Origins]:
    """Every section.key's raw value, and where each came from (file, env, default)."""
    file, named = config_path(path, env)
    merged, from_file = merge(read_toml(file, must_exist=named), DEFAULTS, str(file))
    from_env = apply_env(merged, DEFAULTS, env)
    return merged, Origins(str(file), from_file, from_env, named)


def _build(m: dict[str, dict[str, Any]], at: Origins, env: dict[str, str]) -> Config:
    from vault.config_chat import chat_channels  # it builds on this module's helpers

    seller = _seller(m["seller"], at)
    config = Config(
        source=at.path,
        database_url=_text(m["database"]["url"], at("database", "url")),
        vault=vault_config(m["vault"], at),
        seller=seller,
        http_listen=parse_hostport(m["http"]["listen"], at("http", "listen")),
        public_url=_url(m["http"]["public_url"], at("http", "public_url")),
        trusted_proxies=_networks(m["http"]["trusted_proxies"], at("http", "trusted_proxies")),
        link_ttl=parse_duration(m["links"]["ttl"], at("links", "ttl")),
        email=_email(m["email"], at, seller.name, env),
        notifier_enabled=_bool(m["notifier"]["enabled"], at("notifier", "enabled")),
        notifier_tick=parse_duration(m["notifier"]["tick"], at("notifier", "tick")),
        ar_recipients=tuple(_list(m["ar"]["recipients"], at("ar", "recipients"))),
        secret_keys=_secret_keys(env),
        api_rate=parse_rate(m["api"]["rate"], at("api", "rate")),
        **chat_channels(m, at, env),
        alerts=_alerts_module().alerts_config(m, at),
        ingest_watch=_folder(m["ingest"]["watch"], at("ingest", "watch")),
        min_free_disk=parse_size(m["http"]["min_free_disk"], at("http", "min_free_disk")),
        retention=_retention(m["retention"], at),
        stripe=_stripe(m["stripe"], at, env),
        **_observability(m, at),
        http_limits=http_limits(m["http"], at),
        access=_access(m["access"], at),
        lease_ttl=lease_ttl(m, at),
    )
    if config.alerts.ar_slack_channel and config.slack is None:
        # Its posts would wait in the outbox for a Slack sender that never runs.
        raise ConfigError(f"{at('ar', 'slack_channel')}: set, but slack.enabled is false")
    return config


def _access(section: dict[str, Any], at: Origins) -> AccessConfig:
    idle = parse_duration(section["session_idle"], at("access", "session_idle"))
    longest = parse_duration(section["session_max"], at("access", "session_max"))
    if idle > longest:
        raise ConfigError(f"{at('access', 'session_idle')}: is longer than access.session_max")
    rate = parse_rate(section["session_rate"], at("access", "session_rate"))
    return AccessConfig(session_idle=idle, session_max=longest, session_rate=rate,
                        step_up=_access_module().step_up_config(section, at))


def _access_module() -> Any:
    """vault.config_access imports this module's helpers, so it is imported on use."""
    from vault import config_access

    return config_access


def _retention(section: dict[str, Any], at: Origins) -> RetentionConfig:
    kept = {key: parse_duration(value, at("retention", key))
            for key, value in section.items()}
    for key, duration in kept.items():
        if duration < timedelta(days=1):
            raise ConfigError(f"{at('retention', key)}: {section[key]!r} is under a day; "
                              "keep stored data at least 1d")
    return RetentionConfig(**kept)


def _alerts_module() -> Any:
    """vault.config_alerts imports ConfigError from here, so it is imported on use."""
    from vault import config_alerts

    return config_alerts


def _email(section: dict[str, Any], origins: Origins, sender_name: str,
           env: dict[str, str]) -> EmailConfig:
    def at(key: str) -> str:
        return origins("email", key)

    return EmailConfig(
        listen=parse_hostport(section["listen"], at("listen")),
        addresses=frozenset(a.lower() for a in _list(section["addresses"], at("addresses"))),
        sender=_text(section["from"], at("from")),
        outbound=_outbound(section["outbound"], at("outbound")),
        trusted_relays=_networks(section["trusted_relays"], at("trusted_relays")),
        authserv_id=_text(section["authserv_id"], at("authserv_id")),
        require_authentication=_bool(
            section["require_authentication"], at("require_authentication")
        ),
        verify_dkim=_bool(section["verify_dkim"], at("verify_dkim")),
        max_size=parse_size(section["max_size"], at("max_size")),
        notice_interval=parse_duration(section["notice_interval"], at("notice_interval")),
        sender_name=sender_name,
        answer_thanks=_bool(section["answer_thanks"], at("answer_thanks")),
        **_email_tls(section, origins, env),
        limits=_mail_module().mail_limits(section, origins),
    )


def _email_tls(section: dict[str, Any], at: Origins, env: dict[str, str]) -> dict[str, Any]:
    cert = _pem_file(section["tls_cert"], at("email", "tls_cert"))
    key = _pem_file(section["tls_key"], at("email", "tls_key"))
    if (cert is None) != (key is None):
        raise ConfigError(f"{at('email', 'tls_cert')}: tls_cert and tls_key go together")
    require = _bool(section["require_tls"], at("email", "require_tls"))
    if require and cert is None:
        raise ConfigError(f"{at('email', 'require_tls')}: true, but no tls_cert to offer")
    username = env.get("INVOICEBOT_SMTP_USERNAME", "").strip()
    password = env.get("INVOICEBOT_SMTP_PASSWORD", "")
    if bool(username) != bool(password):
        raise ConfigError("INVOICEBOT_SMTP_USERNAME and INVOICEBOT_SMTP_PASSWORD go together")
    return {
        "tls_cert": cert, "tls_key": key, "require_tls": require,
        "outbound_ca_file": _pem_file(section["outbound_ca_file"],
                                      at("email", "outbound_ca_file")),
        "outbound_require_tls": _bool(section["outbound_require_tls"],
                                      at("email", "outbound_require_tls")),
        "outbound_connections": whole_number(section["outbound_connections"],
                                             at("email", "outbound_connections")),
        "outbound_username": username, "outbound_password": password,
    }


def _pem_file(value: Any, where: str) -> Path | None:
    if value == "":  # the default: none
        return None
    text = _text(value, where)
    if not Path(text).is_file():
        raise ConfigError(f"{where}: {text!r} is not a file")
    return Path(text)


def _mail_module() -> Any:
    """vault.config_mail imports this module's helpers, so it is imported on use."""
    from vault import config_mail

    return config_mail


def _seller(section: dict[str, Any], at: Origins) -> SellerConfig:
    tz_name = _text(section["timezone"], at("seller", "timezone"))
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{at('seller', 'timezone')}: unknown time zone {tz_name!r}") from exc
    return SellerConfig(
        name=_text(section["name"], at("seller", "name")),
        address=str(section["address"]),
        tax_id=str(section["tax_id"]),
        payment_terms=str(section["payment_terms"]),
        timezone=tz,
        fiscal_year_start=_month_number(section["fiscal_year_start"],
                                        at("seller", "fiscal_year_start")),
        logo_url=_logo_url(section["logo_url"], at("seller", "logo_url")),
        accent_color=_accent(section["accent_color"], at("seller", "accent_color")),
        e_invoicing=_bool(section["e_invoicing"], at("seller", "e_invoicing")),
        iban=_bank_code(section["iban"], iban, at("seller", "iban"), "an IBAN"),
        bic=_bank_code(section["bic"], bic, at("seller", "bic"), "a BIC"),
        documents_also_english=_bool(section["documents_also_english"],
                                     at("seller", "documents_also_english")),
        locale=_seller_locale(section["locale"], at("seller", "locale")),
    )


def _seller_locale(value: Any, where: str) -> str:
    tag = str(value).strip()
    if language_of(tag) != tag.replace("-", "_").split("_")[0].lower() or not tag:
        raise ConfigError(f"{where}: {value!r} is not a language we write (use one of "
                          f"{', '.join(LANGUAGES)}, or a locale such as de_DE)")
    return tag


DEFAULT_ACCENT = "#1f6feb"
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_URL_UNSAFE = re.compile(r"[\s\"'<>\\]")


def _logo_url(value: Any, where: str) -> str:
    """"" or an https URL: mail clients block plain http images, and the HTML email
    fetches nothing else."""
    text = str(value).strip()
    if text and (not text.lower().startswith("https://") or len(text) <= len("https://")
                 or _URL_UNSAFE.search(text)):
        raise ConfigError(f"{where}: expected an https:// URL of an image, or \"\" for "
                          f"none, got {value!r}")
    return text


def _accent(value: Any, where: str) -> str:
    """A #rgb or #rrggbb colour dark enough for the white text of the email's buttons
    (WCAG AA: contrast 4.5:1 or more)."""
    text = str(value).strip()
    if not _HEX_COLOR.match(text):
        raise ConfigError(f"{where}: expected a colour like \"#1f6feb\", got {value!r}")
    digits = text[1:] if len(text) == 7 else "".join(c * 2 for c in text[1:])
    contrast = 1.05 / (_luminance(digits) + 0.05)
    if contrast < 4.5:
        raise ConfigError(f"{where}: {text} is too light for white button text (contrast "
                          f"{contrast:.1f}:1, needs 4.5:1); choose a darker colour")
    return text.lower()


def _luminance(hex_digits: str) -> float:
    """WCAG relative luminance of an sRGB colour "rrggbb"."""
    def linear(pair: str) -> float:
        c = int(pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(hex_digits[i:i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _bank_code(value: Any, scheme: Any, where: str, what: str) -> str:
    """An IBAN or BIC in its compact form ("" stays ""), checked so that a typo is caught
    here rather than in a buyer's payment run."""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if not value.strip():
        return ""
    try:
        return str(scheme.validate(value))
    except ValidationError as exc:
        raise ConfigError(f"{where}: {value!r} is not {what} ({exc})") from exc


def _month_number(value: Any, where: str) -> int:
    """A month 1-12, from TOML (an integer) or the environment (its digits)."""
    text = str(value).strip() if isinstance(value, str) else None
    number = int(text) if text is not None and text.isdigit() else value
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 12:
        raise ConfigError(f"{where}: expected a month number 1-12, got {value!r}")
    return number


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value.strip()


def _folder(value: Any, where: str) -> Path | None:
    """A folder (made if missing), or None for "": not a file, not a non-string."""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a folder path or \"\", got {value!r}")
    if not value.strip():
        return None
    path = Path(value.strip())
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{where}: {value!r} exists and is not a folder")
    return path


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def _list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return value


def _url(value: Any, where: str) -> str:
    text = _text(value, where)
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: {text!r} must start with http:// or https://")
    return text.rstrip("/")


def _outbound(value: Any, where: str) -> str:
    text = _text(value, where)
    if text.startswith("maildir:") and len(text) > len("maildir:"):
        return text
    if text.startswith("smtp://"):
        parse_hostport(text.removeprefix("smtp://"), where)
        return text
    raise ConfigError(f"{where}: {text!r} must be maildir:PATH or smtp://HOST:PORT")


def _networks(value: Any, where: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(v, strict=False) for v in _list(value, where))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _stripe(m: dict[str, Any], at: Origins, env: dict[str, str]) -> StripeConfig | None:
    if not _bool(m["enabled"], at("stripe", "enabled")):
        return None
    secrets = tuple(s.strip() for s in env.get("STRIPE_WEBHOOK_SECRET", "").split(",")
                    if s.strip())
    if not secrets:
        raise ConfigError("STRIPE_WEBHOOK_SECRET is not set; it is required when "
                          "stripe.enabled is true")
    path = _text(m["account_id_from"], at("stripe", "account_id_from"))
    if path != "id" and not path.startswith("metadata."):
        raise ConfigError(f"{at('stripe', 'account_id_from')}: {path!r} must be "
                          '"metadata.KEY" or "id"')
    return StripeConfig(api_base=_url(m["api_base"], at("stripe", "api_base")).rstrip("/"),
                        account_id_from=path, webhook_secrets=secrets,
                        api_key=env.get("STRIPE_API_KEY", "").strip())


def _secret_keys(env: dict[str, str]) -> tuple[str, ...]:
    """INVOICEBOT_SECRET_KEYS: comma-separated, oldest first; the newest signs."""
    keys = tuple(k.strip() for k in env.get("INVOICEBOT_SECRET_KEYS", "").split(",") if k.strip())
    short = [i for i, key in enumerate(keys) if len(key) < 32]
    if short:
        raise ConfigError(
            f"INVOICEBOT_SECRET_KEYS: key #{short[0] + 1} is shorter than 32 characters"
        )
    return keys

