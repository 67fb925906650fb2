"""Shared fixtures: no network beyond loopback, a fresh database per test, a config.

The database is SQLite by default; set INVOICEBOT_TEST_DATABASE_URL=postgres://... to run
the same suite on PostgreSQL (one scratch database per session, tables emptied per test).
Under pytest-xdist a session is one worker process: each worker has its own scratch
database and its own temporary directory, so nothing is shared between workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import shutil
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tortoise import Tortoise, connections

from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.fakes import SmtpSink
from tests.s3 import SUITE_VAULT, MotoS3, VaultPlace, shared_s3, suite_place, suite_vault_env
from tests.scratchdb import PG_URL, scratch_pg
from vault import db
from vault.config import Config, load_config
from vault.pdf import PdfRenderer

if TYPE_CHECKING:
    from tests.alerting import Alerting

TEST_KEYS = "k" * 40 + "," + "n" * 40  # two keys: old, new (new signs)
TELEGRAM_PACING = 0.01  # seconds between two messages to one chat (Telegram's: 1)


# ---- network: loopback only -------------------------------------------------------------

def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # AF_UNIX paths
    if not isinstance(address, tuple):
        return False
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NetworkAccessError(AssertionError):
    pass


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    """Any connection beyond 127.0.0.0/8 and ::1 fails the test that made it."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guard(address: Any) -> None:
        if not _is_loopback(address):
            raise NetworkAccessError(f"test tried to reach {address!r} beyond loopback")

    def connect(self: socket.socket, address: Any) -> None:
        guard(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not _is_loopback((name, 0)):
            raise NetworkAccessError(f"test tried to resolve {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    yield
    socket.socket.connect = real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = real_getaddrinfo


# ---- configuration ------------------------------------------------------------------------

@pytest.fixture
def make_config(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    """Build a Config for this test: its own vault, maildir and free ports."""

    def build(toml: str = "", **env: str) -> Config:
        path = tmp_path / "config.toml"
        path.write_text(toml)
        base = {
            "INVOICEBOT_DATABASE_URL": database_url,
            "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{tmp_path / 'outbox'}",
            "INVOICEBOT_HTTP_LISTEN": "127.0.0.1:0",
            "INVOICEBOT_EMAIL_LISTEN": "127.0.0.1:0",
            "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        }
        if not {"INVOICEBOT_VAULT_URL", "INVOICEBOT_VAULT_PATH"} & env.keys():
            base.update(suite_vault_env(tmp_path / "vault"))  # else the test names its own
        base.update(env)
        config = load_config(path, env=base)
        if config.telegram is not None:  # Telegram's pacing, shortened: no test waits a second
            telegram = dataclasses.replace(config.telegram, per_chat_period=TELEGRAM_PACING)
            config = dataclasses.replace(config, telegram=telegram)
        return config

    return build


@pytest.fixture
def config(make_config) -> Config:  # type: ignore[no-untyped-def]
    return make_config()  # type: ignore[no-any-return]


# ---- the vault's storage: a folder, or an S3 bucket ---------------------------------------------

@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """A local S3 server (moto) for the session; the S3 cases skip, saying why, without it."""
    try:
        server = shared_s3()  # the one the suite's buckets are on, under INVOICEBOT_TEST_VAULT=s3
    except Exception as exc:  # not installed, no port, or its thread failed to start
        if SUITE_VAULT == "s3":
            raise  # the run asked for S3: a skip would test folders only, quietly
        pytest.skip(f"the local S3 server (moto) could not start: {type(exc).__name__}: {exc}")
    yield server  # a daemon thread: it ends with the worker process


@pytest.fixture(params=["file", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> VaultPlace:
    """Where this test's vault lives: run once with a folder and once with an S3 bucket."""
    if request.param == "file":
        return VaultPlace.folder(tmp_path / "vault")
    return VaultPlace.bucket(request.getfixturevalue("moto_s3"))


@pytest.fixture
def vault_place(tmp_path: Path) -> VaultPlace:
    """The vault `make_config` and the CLI give this test (INVOICEBOT_TEST_VAULT: a folder,
    or a bucket), with a way to reach its raw objects behind the store's back."""
    return suite_place(tmp_path / "vault")


# ---- database -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A scratch PostgreSQL database for this session, migrated once."""
    if not PG_URL:
        yield ""
        return
    with scratch_pg("invoicebot_test") as url:
        asyncio.run(db.migrate(url))
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A SQLite file migrated once per session, which `orm` copies for each test: running
    the migrations costs about half a second a test, a copy a millisecond."""
    if PG_URL:
        return None
    path = tmp_path_factory.mktemp("template") / "invoicebot.db"
    asyncio.run(db.migrate(f"sqlite://{path}"))
    # The file is in WAL mode: fold the log into the file, so the file alone is the database.
    with contextlib.closing(sqlite3.connect(path)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert not busy, "the template database is still in use"
    return path


@pytest.fixture
def database_url(tmp_path: Path, pg_database: str) -> str:
    return pg_database or f"sqlite://{tmp_path / 'invoicebot.db'}"


async def _empty_pg_tables() -> None:
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'tortoise_migrations'"
    )
    names = ", ".join(f'"{row["tablename"]}"' for row in rows)
    await conn.execute_script(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
async def orm(database_url: str, sqlite_template: Path | None) -> AsyncIterator[str]:
    """A migrated, empty database with the ORM open; yields its URL."""
    if sqlite_template is not None:
        shutil.copyfile(sqlite_template, database_url.removeprefix("sqlite://"))
    await db.connect(database_url)
    if PG_URL:
        await _empty_pg_tables()
    yield database_url
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
def renderer() -> Iterator[PdfRenderer]:
    """One PDF worker pool for the session: starting workers costs a second or two."""
    pool = PdfRenderer(max_workers=2)
    yield pool
    pool.close()


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """A real SMTP relay on loopback that records what it is given."""
    relay = SmtpSink()
    await relay.start()
    yield relay
    await relay.stop()


def pytest_report_header() -> list[str]:
    if PG_URL:
        database = f"database: PostgreSQL ({PG_URL.rpartition('@')[2]})"
    else:
        database = "database: SQLite (set INVOICEBOT_TEST_DATABASE_URL to run on PostgreSQL)"
    if SUITE_VAULT == "s3":
        return [database, "vault: an S3 bucket per test, on a local moto server"]
    return [database, "vault: a folder per test (INVOICEBOT_TEST_VAULT=s3 for S3 buckets)"]


@pytest.fixture
async def alerting(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str, tmp_path: Path
) -> AsyncIterator[Alerting]:
    """The running service with alerting on and a frozen clock (tests/alerting.py)."""
    from tests.alerting import alert_config, running_alerts  # the whole service: load late

    async with running_alerts(alert_config(make_config, sink), sink, renderer, tmp_path) as run:
        yield run


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API on loopback (tests/fake_slack.py), for the real slack-sdk."""
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API on loopback (tests/fake_telegram.py), for the real PTB."""
    async with FakeTelegram() as fake:
        yield fake
