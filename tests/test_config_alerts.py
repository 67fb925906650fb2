"""The [notifier] and [ar] alert settings: documented defaults, overrides, clear errors."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from tests.fakes import empty_config
from vault.config import ConfigError, load_config


def test_the_repository_config_documents_the_alert_defaults() -> None:
    alerts = load_config(Path(__file__).parent.parent / "config.toml", env={}).alerts
    assert (alerts.due_soon_days, alerts.digest_time, alerts.digest_weekday) == (3, time(8), 0)
    assert alerts.default_quiet_hours is None
    assert alerts.ar_digest_at == time(8)
    assert alerts.escalate_at_once == {"dispute", "person"}
    assert alerts.ar_slack_channel == ""
    assert alerts.alert_window == timedelta(days=7)


def test_alert_settings_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[notifier]\ndue_soon_days = 5\ndigest_weekday = "Friday"\n'
                    'default_quiet_hours = "21:30-06:45"\n'
                    '[ar]\nescalate_at_once = []\ndigest_at = "07:15"\n')
    env = {"INVOICEBOT_NOTIFIER_DIGEST_TIME": "17:00", "INVOICEBOT_AR_SLACK_CHANNEL": "C0AR",
           "INVOICEBOT_SLACK_ENABLED": "true", "SLACK_BOT_TOKEN": "xoxb-fake",
           "SLACK_SIGNING_SECRET": "signing-secret-value"}
    alerts = load_config(path, env=env).alerts
    assert (alerts.due_soon_days, alerts.digest_weekday, alerts.digest_time) == (5, 4, time(17))
    assert alerts.default_quiet_hours == (time(21, 30), time(6, 45))
    assert alerts.escalate_at_once == frozenset()
    assert (alerts.ar_digest_at, alerts.ar_slack_channel) == (time(7, 15), "C0AR")


def test_an_ar_slack_channel_needs_slack_enabled(tmp_path: Path) -> None:
    named = r"INVOICEBOT_AR_SLACK_CHANNEL \(environment\): set, but slack\.enabled is false"
    with pytest.raises(ConfigError, match=named):
        load_config(empty_config(tmp_path), env={"INVOICEBOT_AR_SLACK_CHANNEL": "C0AR"})


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[notifier]\ndue_soon_days = 0\n", "notifier.due_soon_days: 0 must be a whole number"),
        ("[notifier]\ndue_soon_days = 'soon'\n", "notifier.due_soon_days"),
        ("[notifier]\ndigest_time = '8am'\n", "notifier.digest_time: '8am' is not a time of day"),
        ("[notifier]\ndigest_weekday = 'someday'\n", "notifier.digest_weekday: 'someday' is not"),
        ("[notifier]\ndefault_quiet_hours = '22:00'\n", "notifier.default_quiet_hours: '22:00'"),
        ("[notifier]\ndefault_quiet_hours = '22:00-22:00'\n", "starts and ends at the same"),
        ("[ar]\ndigest_at = '24:00'\n", "ar.digest_at: '24:00' is not a time of day"),
        ("[ar]\nescalate_at_once = ['dispute', 'gossip']\n",
         "ar.escalate_at_once: unknown kind 'gossip'"),
        ("[ar]\nescalate_at_once = 'dispute'\n", "ar.escalate_at_once: expected a list"),
    ],
)
def test_a_bad_alert_setting_names_its_file_and_key(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_the_alert_window_is_a_duration_from_the_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[notifier]\nalert_window = "2w"\n')
    assert load_config(path, env={}).alerts.alert_window == timedelta(days=14)
    env = {"INVOICEBOT_NOTIFIER_ALERT_WINDOW": "36h"}
    assert load_config(path, env=env).alerts.alert_window == timedelta(hours=36)
    for bad, message in (("soon", "is not a duration"), ("0d", "would alert nothing")):
        named = rf"INVOICEBOT_NOTIFIER_ALERT_WINDOW \(environment\): '{bad}' {message}"
        with pytest.raises(ConfigError, match=named):
            load_config(path, env={"INVOICEBOT_NOTIFIER_ALERT_WINDOW": bad})
