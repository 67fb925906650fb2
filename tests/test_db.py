"""The schema migrates and the ORM stores money as Decimal on both databases."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.scratchdb import PG_URL, scratch_pg
from vault.models import Account, Invoice


async def test_money_round_trips_as_decimal(orm: str) -> None:
    account = await Account.create(account_id="ACME", name="Acme")
    await Invoice.create(
        account=account, number="INV-1", issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31),
        currency="EUR", subtotal=Decimal("0.10"), tax_total=Decimal("0.20"),
        total=Decimal("0.30"), content_hash="x",
    )
    stored = await Invoice.get(number="INV-1")
    assert stored.total == Decimal("0.30")
    assert stored.subtotal + stored.tax_total == stored.total


@pytest.fixture
def second_pg() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("INVOICEBOT_TEST_DATABASE_URL is not set: no PostgreSQL to open second")
    with scratch_pg("invoicebot_engines") as url:
        yield url


def test_one_process_opens_sqlite_then_postgresql_and_writes_to_both(
    tmp_path: Path, second_pg: str
) -> None:
    """Tortoise keeps each model's INSERT per connection name: after a SQLite database,
    the same process's PostgreSQL one must not be sent SQLite's placeholders. A fresh
    process, so the SQLite insert is the first this process makes."""
    script = (
        "import asyncio, sys\n"
        "from vault import db\n"
        "from vault.models import Account\n"
        "async def main():\n"
        "    for url in sys.argv[1:]:\n"
        "        await db.migrate(url)\n"
        "        await db.connect(url)\n"
        "        await Account.create(account_id='ACME', name='Acme')\n"
        "        print(url.split(':')[0], await Account.filter(account_id='ACME').count())\n"
        "        await db.close()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, f"sqlite://{tmp_path / 'first.db'}", second_pg],
        capture_output=True, text=True, timeout=120,
    )
    assert done.stdout.split("\n")[:2] == ["sqlite 1", "postgres 1"], done.stderr[-2000:]
