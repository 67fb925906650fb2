"""Stopping cleanly: a terminated command ends its PDF workers with it, however it ended."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.conftest import TEST_KEYS
from tests.harness import DATA, request_mail
from tests.s3 import suite_vault_env

INVOICES = 400  # enough that rendering is still going when the signal comes
DEADLINE = 5.0  # seconds: the workers must be gone by then
# After a SIGKILL each worker notices on its own: its watch thread polls every 0.5 s (more
# slack here: the machine may be busy with the rest of the suite).
ORPHAN_DEADLINE = 15.0


def children_of(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is pid, read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's bookkeeping is left


def poll(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def big_invoice_file(folder: Path) -> Path:
    """Invoices issued today: news, rendered by the import itself (history would be left
    to serve's render queue, and the import would start no PDF workers)."""
    path = folder / "invoices.csv"
    issued = datetime.now(UTC).date()
    due = issued + timedelta(days=30)
    rows = ["account_id,invoice_number,issue_date,due_date,currency,description,quantity,"
            "unit_price,tax_rate,entity,po_number,status"]
    rows += [f"ACME,INV-BULK-{n:05d},{issued},{due},EUR,Freight,1,100.00,19,,,"
             for n in range(INVOICES)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def importing(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Start `invoicebot import invoices` of a big file; yields (process, its worker pids)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")} | {
        "INVOICEBOT_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}",
        "INVOICEBOT_VAULT_PATH": str(tmp_path / "vault"),
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }

    def cli(*args: str) -> subprocess.Popen[bytes]:
        # faulthandler: a SIGABRT from a test that waited too long prints where it hung.
        return subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "bot.cli", *args],
                                env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    accounts = subprocess.run([sys.executable, "-m", "bot.cli", "import", "accounts",
                               str(DATA / "accounts.csv"), "--no-progress"],
                              env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert accounts.returncode == 0, accounts.stderr
    process = cli("import", "invoices", str(big_invoice_file(tmp_path)), "--no-progress")
    # Its PDF workers are up once the rows are written and rendering has started.
    assert poll(lambda: len(children_of(process.pid)) >= 2, 60), "no PDF workers started"
    workers = children_of(process.pid)
    yield process, workers
    if process.poll() is None:
        process.kill()
    process.communicate()  # reaps it and closes its pipes
    for pid in workers:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_sigterm_stops_an_import_and_its_pdf_workers(importing) -> None:  # type: ignore[no-untyped-def]
    process, workers = importing
    stopped = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(DEADLINE)
    except subprocess.TimeoutExpired:  # show where it hung
        process.send_signal(signal.SIGABRT)
        process.wait()
        raise AssertionError(process.stderr.read().decode()[-4000:]) from None
    assert process.wait(DEADLINE) == 128 + signal.SIGTERM
    assert b"invoicebot import: terminated" in process.stderr.read()
    # Within DEADLINE of the signal, the parent's own exit included.
    assert poll(lambda: not any(alive(pid) for pid in workers),
                DEADLINE - (time.monotonic() - stopped))


def test_pdf_workers_end_even_when_their_parent_is_killed(  # type: ignore[no-untyped-def]
    importing, tmp_path: Path
) -> None:
    process, workers = importing
    # Once a PDF is stored the workers run their initializer (where they start watching
    # their parent); before that a worker is still importing and cannot notice anything.
    assert poll(lambda: any((tmp_path / "vault").rglob("*.pdf")), 120), "nothing rendered"
    process.kill()  # SIGKILL: no handler, no clean-up runs in the parent
    process.wait(DEADLINE)
    assert poll(lambda: not any(alive(pid) for pid in workers), ORPHAN_DEADLINE)


# ---- serve: SIGTERM during a burst of mail -------------------------------------------------

BURST = 30


def serve_env(tmp_path: Path) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")} | {
        "INVOICEBOT_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}",
        **suite_vault_env(tmp_path / "vault"),
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        "INVOICEBOT_EMAIL_LISTEN": "127.0.0.1:0", "INVOICEBOT_HTTP_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{tmp_path / 'outbox'}",
        "INVOICEBOT_EMAIL_TRUSTED_RELAYS": "127.0.0.1/32",
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }


def start_serve(tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    """`invoicebot serve` in a subprocess, and its SMTP port read from its banner."""
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], text=True,
                               env=serve_env(tmp_path), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    banner = process.stdout.readline()  # blocks until it listens (or ends: "")
    found = re.search(r"SMTP on 127\.0\.0\.1:(\d+)", banner)
    assert found, f"no banner: {banner!r}"
    return process, int(found[1])


def start_serve_with_data(tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    """The sample accounts, contacts and invoices imported by the CLI, then `start_serve`."""
    for kind in ("accounts", "contacts", "invoices"):
        done = subprocess.run([sys.executable, "-m", "bot.cli", "import", kind,
                               str(DATA / f"{kind}.csv"), "--no-progress", "--no-alerts"],
                              env=serve_env(tmp_path), cwd=tmp_path, capture_output=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    return start_serve(tmp_path)


def send_one(port: int, msg: EmailMessage) -> bool:
    """True when the service answered 250 to this message (it is then its to answer)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(msg, "bounce@acme.example", ["invoices@localhost"])
        return True
    except (smtplib.SMTPException, OSError):
        return False  # refused, or cut off before 250: the sender's to retry


def replied_to(outbox: Path) -> set[str]:
    """The Message-IDs the replies in the maildir answer."""
    found = set()
    for path in (outbox / "new").glob("*"):
        reply = message_from_bytes(path.read_bytes(), policy=default_policy)
        found.add(str(reply["In-Reply-To"]))
    return found


def test_sigterm_during_a_burst_of_mail_loses_nothing(tmp_path: Path) -> None:
    process, port = start_serve_with_data(tmp_path)
    burst = [request_mail("ap@acme.example", "invoice INV-2026-0301") for _ in range(BURST)]
    with ThreadPoolExecutor(8) as pool:
        sent = [pool.submit(send_one, port, msg) for msg in burst]
        assert poll(lambda: sum(f.done() for f in sent) >= BURST // 3, 60)
        workers = children_of(process.pid)  # its worker processes, while they are its own
        process.send_signal(signal.SIGTERM)  # a third of the burst in, the rest arriving
        accepted = {str(msg["Message-ID"]) for msg, f in zip(burst, sent, strict=True)
                    if f.result()}
    assert process.wait(30) == 0
    process.communicate()  # closes its stdout
    assert accepted, "nothing was accepted before the stop"
    assert workers, "serve had no worker process to end"
    assert poll(lambda: not any(alive(pid) for pid in workers), DEADLINE), (
        f"left running after the stop: {[pid for pid in workers if alive(pid)]}")

    process, _ = start_serve(tmp_path)  # the restart answers what the stop left
    try:
        outbox = tmp_path / "outbox"
        assert poll(lambda: accepted <= replied_to(outbox), 60), (
            f"{len(accepted - replied_to(outbox))} of {len(accepted)} accepted mails unanswered")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        process.communicate()


def test_a_killed_serve_leaves_no_worker_behind(tmp_path: Path) -> None:
    """SIGKILL skips every clean-up in serve; its mail-reading and PDF workers must still
    end, or they hold its stdout open and whoever waits on that pipe waits for ever."""
    process, port = start_serve_with_data(tmp_path)
    request = request_mail("ap@acme.example", "invoice INV-2026-0301")
    assert send_one(port, request)
    # Answered: the message went through the mail-reading worker, so it is running now.
    assert poll(lambda: str(request["Message-ID"]) in replied_to(tmp_path / "outbox"), 60)
    workers = children_of(process.pid)
    assert workers, "serve started no worker process"
    process.kill()
    process.wait(DEADLINE)
    assert poll(lambda: not any(alive(pid) for pid in workers), ORPHAN_DEADLINE)
    # End of file on its stdout in time: no orphan holds the pipe open.
    assert process.communicate(timeout=ORPHAN_DEADLINE) == ("", None)
