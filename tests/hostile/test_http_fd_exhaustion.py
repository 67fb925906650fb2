"""Out of file descriptors: the service logs one line, not a traceback per accept, and
answers again once connections close. The service runs in a child process whose open-file
limit is lowered (tests/hostile/lowfd_service.py), so this test's own process is spared.
The child keeps its own SQLite database: descriptors, not the database, are the subject."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]
SPARE = 20  # descriptors left to the child once it has started


@pytest.fixture
def child(tmp_path: Path, sqlite_template: Path | None
          ) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    if sqlite_template is not None:  # migrated once per session: a faster start
        shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    config = tmp_path / "config.toml"
    config.write_text(f"""
[database]
url = "sqlite://{tmp_path / 'db.sqlite3'}"
[vault]
path = "{tmp_path / 'vault'}"
[http]
listen = "127.0.0.1:0"
header_timeout = "60s"
[email]
listen = "127.0.0.1:0"
outbound = "maildir:{tmp_path / 'outbox'}"
[notifier]
enabled = false
""")
    log = tmp_path / "service.log"
    env = {**os.environ, "INVOICEBOT_SECRET_KEYS": TEST_KEYS}
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.lowfd_service", str(config), str(SPARE)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the child is ready (or died)
        assert line.startswith("ready "), log.read_text()
        yield process, int(line.split()[1]), log
    finally:
        if process.stdin is not None:
            process.stdin.close()
        if process.stdout is not None:
            process.stdout.close()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(probe, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    """Poll a condition with a deadline (time.monotonic measures, it reads no date)."""
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, f"condition not met within {timeout}s"
        time.sleep(0.05)
    return value


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_out_of_descriptors_logs_one_line_and_answers_again_once_connections_close(
    child: tuple[subprocess.Popen[str], int, Path],
) -> None:
    process, port, log = child
    assert process.stdin is not None
    assert healthy(port)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(SPARE * 5)]
    try:
        wait_for(lambda: "not accepting connections" in log.read_text())
        # asyncio retries accept each second; three more rounds fail as the first did.
        time.sleep(3.5)
        assert not healthy(port)  # really out of descriptors: not even /healthz
        text = log.read_text()
    finally:
        for sock in idle:
            sock.close()
    assert text.count("not accepting connections") == 1, text
    assert "Traceback" not in text and "out of system resource" not in text, text
    assert len(text.splitlines()) <= 3, text
    wait_for(lambda: healthy(port))
    process.stdin.close()  # stop: the retry left pending by asyncio is not a traceback
    process.wait(timeout=20)
    assert "Traceback" not in log.read_text(), log.read_text()
