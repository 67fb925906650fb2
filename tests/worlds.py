"""The intents data set (tests/data/e2e/intents/) in a database of its own, built once per
test module: three accounts, several currencies and entities, payments, a void invoice,
over 20 invoices in 2025 for one account, and numbers close to each other across accounts.

Rendering its ~40 PDFs takes a few seconds, so the modules that read it share one copy
(module-scoped fixtures); a test that changes data changes only what no other reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import TEST_KEYS
from tests.harness import TODAY
from tests.s3 import suite_vault_env
from tests.scratchdb import PG_URL, scratch_pg
from vault.clock import FixedClock
from vault.config import Config, load_config
from vault.ingest.csv import import_csv
from vault.pdf import PdfRenderer

INTENTS_DATA = Path(__file__).parent / "data" / "e2e" / "intents"
KINDS = ("accounts", "contacts", "invoices", "payments")


@contextlib.contextmanager
def scratch_database(tmp: Path) -> Iterator[str]:
    """A database only this module uses: a SQLite file, or a scratch PostgreSQL database
    (the session's shared one is emptied by function-scoped tests)."""
    if not PG_URL:
        yield f"sqlite://{tmp / 'world.db'}"
        return
    with scratch_pg("invoicebot_world") as url:
        yield url


def world_config(tmp: Path, database_url: str, **env: str) -> Config:
    path = tmp / "config.toml"
    path.write_text("")
    base = {
        "INVOICEBOT_DATABASE_URL": database_url,
        **suite_vault_env(tmp / "vault"),
        "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{tmp / 'outbox'}",
        "INVOICEBOT_HTTP_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_EMAIL_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_SECRET_KEYS": TEST_KEYS,
        # The world is loaded with its events; its tests are about answers, not alerts.
        "INVOICEBOT_NOTIFIER_ENABLED": "false",
    }
    return load_config(path, env=base | env)


async def load_intents_data(config: Config, renderer: PdfRenderer) -> None:
    """Through the real import path with real PDFs, as of the harness's fixed today."""
    from bot.commands_cli import pdf_issuer

    async with pdf_issuer(config, renderer) as issue:
        for kind in KINDS:
            await import_csv(kind, INTENTS_DATA / f"{kind}.csv", on_issued=issue,
                             progress=False, clock=FixedClock.on(TODAY))
