"""Configuration: defaults work, overrides apply, every mistake names its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from vault.config import ConfigError, load_config


def test_repository_config_loads_with_its_documented_defaults() -> None:
    config = load_config(Path(__file__).parent.parent / "config.toml", env={})
    assert config.link_ttl == timedelta(days=7)
    assert config.email.addresses == {"invoices@localhost"}
    assert config.http_listen == ("127.0.0.1", 8080)


def test_environment_overrides_a_key(tmp_path: Path) -> None:
    env = {"INVOICEBOT_EMAIL_OUTBOUND": "smtp://127.0.0.1:2600", "INVOICEBOT_LINKS_TTL": "2h"}
    config = load_config(tmp_path / "missing.toml", env=env)
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
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INVOICEBOT_EMAIL_VERIFY_DKIM"):
        load_config(tmp_path / "c.toml", env={"INVOICEBOT_EMAIL_VERIFY_DKIM": "maybe"})


def test_short_secret_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "c.toml", env={"INVOICEBOT_SECRET_KEYS": "short-secret"})
    assert "INVOICEBOT_SECRET_KEYS" in str(caught.value)
    assert "short-secret" not in str(caught.value)


def test_secret_keys_keep_their_order(tmp_path: Path) -> None:
    keys = "a" * 32 + "," + "b" * 32
    config = load_config(tmp_path / "c.toml", env={"INVOICEBOT_SECRET_KEYS": keys})
    assert config.secret_keys == ("a" * 32, "b" * 32)


def test_fiscal_year_start_defaults_to_january_and_reads_toml_and_environment(
    tmp_path: Path,
) -> None:
    assert load_config(tmp_path / "missing.toml", env={}).seller.fiscal_year_start == 1
    path = tmp_path / "config.toml"
    path.write_text("[seller]\nfiscal_year_start = 4\n")
    assert load_config(path, env={}).seller.fiscal_year_start == 4
    env = {"INVOICEBOT_SELLER_FISCAL_YEAR_START": "7"}
    assert load_config(path, env=env).seller.fiscal_year_start == 7


def test_bad_fiscal_year_start_from_environment_is_refused_naming_the_key(tmp_path: Path) -> None:
    env = {"INVOICEBOT_SELLER_FISCAL_YEAR_START": "0"}
    with pytest.raises(ConfigError, match=r"seller\.fiscal_year_start"):
        load_config(tmp_path / "c.toml", env=env)
