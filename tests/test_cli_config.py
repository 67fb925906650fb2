"""Configuration never fails silently, as an operator meets it: the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from tests.conftest import TEST_KEYS

TIMEOUT = 120  # seconds; a hung command fails its test instead of stalling the suite


def invoicebot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This machine's environment without our variables, plus the project on the path."""
    root = str(Path(__file__).parent.parent)
    return {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")} | {
        "PYTHONPATH": root, "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        "INVOICEBOT_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}",
        "INVOICEBOT_VAULT_PATH": str(tmp_path / "vault"),
    } | extra


def test_version_is_printed(tmp_path: Path) -> None:
    done = invoicebot("--version", env=clean_env(tmp_path), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"invoicebot {metadata.version('invoicebot')}\n")
    assert "composition root" not in invoicebot("--help", env=clean_env(tmp_path),
                                                cwd=tmp_path).stdout


def test_a_config_file_that_does_not_exist_stops_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "conifg.toml"
    for args in (("--config", str(missing), "migrate"), ("migrate", "--config", str(missing))):
        done = invoicebot(*args, env=clean_env(tmp_path), cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr == f"invoicebot: {missing}: config file not found\n"
    assert not (tmp_path / "db.sqlite3").exists()  # nothing was done with the defaults


def test_config_is_taken_after_the_command_too(tmp_path: Path) -> None:
    config = tmp_path / "prod.toml"
    config.write_text(f'[database]\nurl = "sqlite://{tmp_path / "from-file.sqlite3"}"\n')
    env = clean_env(tmp_path)
    del env["INVOICEBOT_DATABASE_URL"]
    done = invoicebot("migrate", "--config", str(config), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "from-file.sqlite3").exists()


def test_a_misspelt_variable_stops_naming_it_and_its_nearest(tmp_path: Path) -> None:
    env = clean_env(tmp_path, INVOICEBOT_LINKS_TLL="2h")
    done = invoicebot("migrate", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == ("invoicebot: INVOICEBOT_LINKS_TLL (environment): not a setting "
                           "invoicebot knows; did you mean INVOICEBOT_LINKS_TTL?\n")


def test_config_check_shows_each_value_with_its_source_and_masks_secrets(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[links]\nttl = "2h"\n')
    env = clean_env(tmp_path, INVOICEBOT_DATABASE_URL="postgres://app:s3cret-pw@db:5432/ib",
                    STRIPE_API_KEY="sk_live_do_not_show", METRICS_TOKEN="scrape-token-hidden")
    done = invoicebot("config", "check", "--config", str(config), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert 'url = "postgres://app:***@db:5432/ib"  # env INVOICEBOT_DATABASE_URL' in lines
    assert f'ttl = "2h"  # file {config}' in lines
    assert 'tick = "30s"  # default' in lines
    assert "# INVOICEBOT_SECRET_KEYS: set" in lines
    assert "# STRIPE_API_KEY: set" in lines
    assert "# TELEGRAM_BOT_TOKEN: not set" in lines
    assert "# METRICS_TOKEN: set" in lines
    assert lines[-1] == "# configuration is valid"
    for secret in ("s3cret-pw", "sk_live_do_not_show", "scrape-token-hidden",
                   TEST_KEYS.split(",")[0]):
        assert secret not in done.stdout + done.stderr


def test_config_check_of_a_bad_value_shows_the_settings_and_names_the_variable(
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path, INVOICEBOT_LINKS_TTL="a week")
    done = invoicebot("config", "check", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert 'ttl = "a week"  # env INVOICEBOT_LINKS_TTL' in done.stdout.splitlines()
    assert done.stderr.startswith("invoicebot: INVOICEBOT_LINKS_TTL (environment): 'a week' is "
                                  "not a duration")
