"""Configuration: defaults work, overrides apply, every mistake names its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.telegram_send import PER_CHAT_PERIOD
from tests.fakes import empty_config
from vault.config import ConfigError, load_config


def test_repository_config_loads_with_its_documented_defaults() -> None:
    config = load_config(Path(__file__).parent.parent / "config.toml", env={})
    assert config.link_ttl == timedelta(days=7)
    assert config.email.addresses == {"invoices@localhost"}
    assert config.http_listen == ("127.0.0.1", 8080)


def test_environment_overrides_a_key(tmp_path: Path) -> None:
    env = {"INVOICEBOT_EMAIL_OUTBOUND": "smtp://127.0.0.1:2600", "INVOICEBOT_LINKS_TTL": "2h"}
    config = load_config(empty_config(tmp_path), env=env)
    assert config.email.outbound == "smtp://127.0.0.1:2600"
    assert config.link_ttl == timedelta(hours=2)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[links]\nttl = 'forever'\n", "links.ttl"),
        ("[email]\nlisten_on = '1'\n", "unknown key email.listen_on"),
        ("[mail]\nx = 1\n", "unknown section [mail]"),
        ("[email]\noutbound = 'ftp://x'\n", "email.outbound"),
        ("[email]\ntrusted_relays = ['not-an-ip']\n", "email.trusted_relays"),
        ("[http]\npublic_url = 'example.com'\n", "http.public_url"),
        ("[email]\nrequire_authentication = 'yes'\n", "email.require_authentication"),
        ("[links\n", "not valid TOML"),
        ("[seller]\nfiscal_year_start = 13\n", "seller.fiscal_year_start"),
        ("[seller]\nfiscal_year_start = 'April'\n", "seller.fiscal_year_start"),
        ("[seller]\nfiscal_year_start = true\n", "seller.fiscal_year_start"),
        ("[api]\nrate = 'fast'\n", "api.rate: 'fast' is not a rate (use e.g. 600/min"),
        ("[api]\nrate = '0/s'\n", "api.rate"),
        ("[access]\nsession_idle = 'soon'\n", "access.session_idle"),
        ("[access]\nsession_idle = '13h'\n", "access.session_idle: is longer than"),
        ("[access]\nsession_rate = 'lots'\n", "access.session_rate"),
        ("[access]\nstep_up_please = 'yes'\n", "unknown key access.step_up_please"),
        ("[email]\noutbound_connections = 0\n", "email.outbound_connections: expected a whole"),
        ("[email]\noutbound_connections = 'many'\n", "email.outbound_connections"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_the_relay_gets_eight_connections_unless_told_otherwise(tmp_path: Path) -> None:
    from notifier.delivery import RelayAccess, SmtpSender, sender_for

    assert load_config(empty_config(tmp_path), env={}).email.outbound_connections == 8
    env = {"INVOICEBOT_EMAIL_OUTBOUND": "smtp://127.0.0.1:2600",
           "INVOICEBOT_EMAIL_OUTBOUND_CONNECTIONS": "3"}  # Microsoft 365's limit
    email = load_config(empty_config(tmp_path), env=env).email
    sender = sender_for(email.outbound, relay=RelayAccess.of(email))
    assert isinstance(sender, SmtpSender)
    assert (sender.parallel, sender.pool.keep) == (3, 3)


def test_account_sessions_are_configured_in_access(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[access]\nsession_idle = '10m'\nsession_max = '1h'\n")
    config = load_config(path, env={})
    assert config.access.session_idle == timedelta(minutes=10)
    assert config.access.session_max == timedelta(hours=1)


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INVOICEBOT_EMAIL_VERIFY_DKIM"):
        load_config(empty_config(tmp_path), env={"INVOICEBOT_EMAIL_VERIFY_DKIM": "maybe"})


def test_short_secret_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(empty_config(tmp_path), env={"INVOICEBOT_SECRET_KEYS": "short-secret"})
    assert "INVOICEBOT_SECRET_KEYS" in str(caught.value)
    assert "short-secret" not in str(caught.value)


def test_secret_keys_keep_their_order(tmp_path: Path) -> None:
    keys = "a" * 32 + "," + "b" * 32
    config = load_config(empty_config(tmp_path), env={"INVOICEBOT_SECRET_KEYS": keys})
    assert config.secret_keys == ("a" * 32, "b" * 32)


def test_fiscal_year_start_defaults_to_january_and_reads_toml_and_environment(
    tmp_path: Path,
) -> None:
    assert load_config(empty_config(tmp_path), env={}).seller.fiscal_year_start == 1
    path = tmp_path / "config.toml"
    path.write_text("[seller]\nfiscal_year_start = 4\n")
    assert load_config(path, env={}).seller.fiscal_year_start == 4
    env = {"INVOICEBOT_SELLER_FISCAL_YEAR_START": "7"}
    assert load_config(path, env=env).seller.fiscal_year_start == 7


def test_bad_fiscal_year_start_from_environment_is_refused_naming_the_key(tmp_path: Path) -> None:
    env = {"INVOICEBOT_SELLER_FISCAL_YEAR_START": "0"}
    named = r"^INVOICEBOT_SELLER_FISCAL_YEAR_START \(environment\): expected a month"
    with pytest.raises(ConfigError, match=named):
        load_config(empty_config(tmp_path), env=env)


# ---- chat channels ----------------------------------------------------------------------------

SLACK_ON = {"INVOICEBOT_SLACK_ENABLED": "true", "SLACK_BOT_TOKEN": "xoxb-secret",
            "SLACK_SIGNING_SECRET": "signing-secret-value"}
TELEGRAM_ON = {"INVOICEBOT_TELEGRAM_ENABLED": "true", "TELEGRAM_BOT_TOKEN": "1:secret-bot-token",
               "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-0123456789"}


def test_chat_channels_are_off_by_default(tmp_path: Path) -> None:
    config = load_config(empty_config(tmp_path), env={})
    assert config.slack is None and config.telegram is None


def test_telegram_is_paced_as_telegram_asks_by_default(tmp_path: Path) -> None:
    config = load_config(empty_config(tmp_path), env=TELEGRAM_ON)
    assert config.telegram is not None
    assert config.telegram.per_chat_period == PER_CHAT_PERIOD == 1.0


@pytest.mark.parametrize(("env", "missing"), [
    ({**SLACK_ON, "SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
    ({k: v for k, v in SLACK_ON.items() if k != "SLACK_SIGNING_SECRET"}, "SLACK_SIGNING_SECRET"),
    ({**SLACK_ON, "INVOICEBOT_SLACK_MODE": "socket"}, "SLACK_APP_TOKEN"),
    ({**SLACK_ON, "SLACK_OIDC_CLIENT_ID": "1.2"}, "SLACK_OIDC_CLIENT_SECRET"),
    ({k: v for k, v in TELEGRAM_ON.items() if k != "TELEGRAM_BOT_TOKEN"}, "TELEGRAM_BOT_TOKEN"),
    ({k: v for k, v in TELEGRAM_ON.items() if k != "TELEGRAM_WEBHOOK_SECRET"},
     "TELEGRAM_WEBHOOK_SECRET"),
])
def test_an_enabled_channel_without_its_secret_stops_start_up_naming_it(
    tmp_path: Path, env: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError, match=missing):
        load_config(empty_config(tmp_path), env=env)


def test_secret_keys_and_the_database_password_never_show_in_repr(tmp_path: Path) -> None:
    key = "k" * 40
    config = load_config(empty_config(tmp_path), env={
        "INVOICEBOT_SECRET_KEYS": key,
        "INVOICEBOT_DATABASE_URL": "postgres://bot:hunter2-password@db/invoicebot"})
    assert config.secret_keys == (key,)
    shown = repr(config)
    assert key not in shown and "hunter2-password" not in shown


def test_chat_settings_and_secrets_never_show_in_repr(tmp_path: Path) -> None:
    config = load_config(empty_config(tmp_path), env={**SLACK_ON, **TELEGRAM_ON,
                                                   "INVOICEBOT_SLACK_API_URL": "http://x/api"})
    assert config.slack is not None and config.telegram is not None
    assert config.slack.api_url == "http://x/api/"  # slack_sdk needs the trailing slash
    assert config.telegram.webhook_url == "http://127.0.0.1:8080/telegram/webhook"
    shown = repr(config)
    for secret in (*SLACK_ON.values(), *TELEGRAM_ON.values()):
        if secret != "true":
            assert secret not in shown


@pytest.mark.parametrize(("env", "message"), [
    ({**SLACK_ON, "INVOICEBOT_SLACK_MODE": "rtm"}, "INVOICEBOT_SLACK_MODE"),
    ({**TELEGRAM_ON, "TELEGRAM_WEBHOOK_SECRET": "short"}, "TELEGRAM_WEBHOOK_SECRET"),
    ({**TELEGRAM_ON, "INVOICEBOT_TELEGRAM_API_URL": "api.telegram.org"},
     "INVOICEBOT_TELEGRAM_API_URL"),
])
def test_bad_chat_settings_name_the_key(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(empty_config(tmp_path), env=env)


def test_the_feed_folder_is_off_by_default_and_set_from_the_file_or_the_environment(
    tmp_path: Path,
) -> None:
    path = empty_config(tmp_path)
    assert load_config(path, env={}).ingest_watch is None
    path.write_text('[ingest]\nwatch = "var/feed"\n')
    assert load_config(path, env={}).ingest_watch == Path("var/feed")
    env = {"INVOICEBOT_INGEST_WATCH": str(tmp_path / "drop")}
    assert load_config(path, env=env).ingest_watch == tmp_path / "drop"
    (tmp_path / "a-file").write_text("")
    named = r"INVOICEBOT_INGEST_WATCH \(environment\): '.*a-file' exists and is not a folder"
    with pytest.raises(ConfigError, match=named):
        load_config(path, env={"INVOICEBOT_INGEST_WATCH": str(tmp_path / "a-file")})
    path.write_text("[ingest]\nwatch = 1\n")
    with pytest.raises(ConfigError, match=r"ingest\.watch: expected a folder path"):
        load_config(path, env={})


def test_a_named_config_file_that_does_not_exist_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "typo.toml"
    with pytest.raises(ConfigError, match=rf"^{missing}: config file not found$"):
        load_config(missing, env={})
    with pytest.raises(ConfigError, match=rf"^{missing}: config file not found$"):
        load_config(None, env={"INVOICEBOT_CONFIG": str(missing)})
    monkeypatch.chdir(tmp_path)  # no ./config.toml here: the defaults, as `make run` expects
    assert load_config(None, env={}).link_ttl == timedelta(days=7)


def test_a_misspelt_variable_is_an_error_naming_the_nearest_known_one(tmp_path: Path) -> None:
    nearest = (r"^INVOICEBOT_LINKS_TLL \(environment\): not a setting invoicebot knows; "
               r"did you mean INVOICEBOT_LINKS_TTL\?$")
    with pytest.raises(ConfigError, match=nearest):
        load_config(empty_config(tmp_path), env={"INVOICEBOT_LINKS_TLL": "2h"})
    with pytest.raises(ConfigError, match=r"^INVOICEBOT_ZZZ \(environment\): not a setting "
                                          r"invoicebot knows$"):
        load_config(empty_config(tmp_path), env={"INVOICEBOT_ZZZ": "1"})
    # Variables that are not prefixed ours are none of our business.
    assert load_config(empty_config(tmp_path), env={"INVOICE_LINKS_TTL": "x"}).link_ttl


def test_a_bad_value_names_where_it_came_from_the_variable_or_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[links]\nttl = "2h"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={"INVOICEBOT_LINKS_TTL": "soon"})
    assert str(raised.value).startswith("INVOICEBOT_LINKS_TTL (environment): 'soon' is not a")
    assert str(path) not in str(raised.value)
    path.write_text('[links]\nttl = "later"\n')
    with pytest.raises(ConfigError, match=rf"^{path}: links\.ttl: 'later' is not a duration"):
        load_config(path, env={})
