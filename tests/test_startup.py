"""`serve` starts, or stops at once with exit 2 and one line naming what and where; and
/readyz tells a load balancer when this node can no longer write."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.service import Service
from tests.conftest import TEST_KEYS
from tests.harness import fixed_clock
from vault import db

TIMEOUT = 120  # seconds: it must exit on its own well before this


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")} | {
        "INVOICEBOT_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}",
        "INVOICEBOT_VAULT_PATH": str(tmp_path / "vault"),
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        "INVOICEBOT_EMAIL_LISTEN": "127.0.0.1:0", "INVOICEBOT_HTTP_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{tmp_path / 'outbox'}",
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }
    return subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env=base | env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)


def assert_stopped_with(done: subprocess.CompletedProcess[str], line: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == f"invoicebot: {line}"


@contextlib.contextmanager
def port_taken() -> Iterator[int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        yield holder.getsockname()[1]
    finally:
        holder.close()


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """The file or folder cannot be changed, by root either (chattr +i): how a read-only
    mount or a wrong owner looks to a process, on a machine where the tests run as root."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: cannot make a file read-only for root")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not permitted here ({made.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def migrated(tmp_path: Path) -> Path:
    path = tmp_path / "db.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"], cwd=tmp_path, capture_output=True,
        text=True, timeout=TIMEOUT, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")}
        | {"INVOICEBOT_DATABASE_URL": f"sqlite://{path}",
           "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert done.returncode == 0, done.stderr
    return path


def test_an_smtp_port_in_use_stops_start_up(tmp_path: Path) -> None:
    with port_taken() as port:
        done = serve(tmp_path, INVOICEBOT_EMAIL_LISTEN=f"127.0.0.1:{port}")
    assert_stopped_with(done, f"email.listen 127.0.0.1:{port}: Address already in use")


def test_an_http_port_in_use_stops_start_up(tmp_path: Path) -> None:
    with port_taken() as port:
        done = serve(tmp_path, INVOICEBOT_HTTP_LISTEN=f"127.0.0.1:{port}")
    assert_stopped_with(done, f"http.listen 127.0.0.1:{port}: Address already in use")


def test_a_database_that_cannot_be_written_stops_start_up(tmp_path: Path) -> None:
    path = migrated(tmp_path)
    with immutable(path):
        done = serve(tmp_path)
    assert_stopped_with(done, f"database.url sqlite://{path}: not writable: db.sqlite3: "
                              "Operation not permitted")


def test_a_vault_that_cannot_be_written_stops_start_up(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    with immutable(vault):
        done = serve(tmp_path)
    assert_stopped_with(done, f"vault.path {vault}: not writable: Operation not permitted")


def test_a_second_serve_on_the_same_sqlite_database_is_refused(tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    env = serve_env(tmp_path)
    running = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=first,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert running.stdout is not None
        while b"invoicebot: SMTP on" not in (line := running.stdout.readline()):
            assert line, "the first serve ended"
        done = serve(tmp_path)  # the same database, ports of its own
    finally:
        running.kill()
        running.communicate()  # reaps it and closes its pipe
    assert_stopped_with(
        done, f"database.url sqlite://{tmp_path / 'db.sqlite3'}: another invoicebot serve "
              f"(pid {running.pid}) runs on this SQLite database; SQLite means one instance "
              "(run more than one on PostgreSQL)")
    assert serve_briefly(tmp_path)  # killed: the kernel let go of its lock


def serve_env(tmp_path: Path) -> dict[str, str]:
    """serve on tmp_path's SQLite database, on ports of its own, with its output unbuffered."""
    return {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")} | {
        "INVOICEBOT_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}",
        "INVOICEBOT_VAULT_PATH": str(tmp_path / "vault"), "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        "INVOICEBOT_EMAIL_LISTEN": "127.0.0.1:0", "INVOICEBOT_HTTP_LISTEN": "127.0.0.1:0",
        "PYTHONPATH": str(Path(__file__).parent.parent), "PYTHONUNBUFFERED": "1"}


def serve_briefly(tmp_path: Path) -> bool:
    """Whether serve starts (it is stopped as soon as it says where it listens)."""
    env = serve_env(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        return b"invoicebot: SMTP on" in process.stdout.readline()
    finally:
        process.kill()
        process.communicate()


def test_a_schema_from_a_newer_version_stops_start_up(tmp_path: Path) -> None:
    path = migrated(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO tortoise_migrations (app, name, applied_at) "
                           "VALUES ('vault', '0099_from_the_future', '2027-01-01 00:00:00')")
    done = serve(tmp_path)
    assert_stopped_with(
        done, f"database.url sqlite://{path}: the schema has migration 0099_from_the_future "
              "that this invoicebot does not know (upgraded by a newer version?); run the "
              "newer version, or restore a backup")


async def test_readyz_fails_when_the_database_turns_read_only_while_healthz_passes(
    make_config, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "live.sqlite3"
    config = make_config(INVOICEBOT_DATABASE_URL=f"sqlite://{path}")
    service = Service(config, clock=fixed_clock())
    await service.start()
    try:
        base = f"http://127.0.0.1:{service.http_port}"
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/readyz")).status_code == 200
            with immutable(path):
                ready, alive = await client.get("/readyz"), await client.get("/healthz")
            assert (await client.get("/readyz")).status_code == 200  # writable again
        assert ready.status_code == 503
        assert ready.json()["database"] == "not writable: live.sqlite3: Operation not permitted"
        assert ready.json()["vault"] == "ok"
        assert alive.status_code == 200
    finally:
        await service.stop()
        await db.close()
