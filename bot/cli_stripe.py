"""`invoicebot stripe sync [--since YYYY-MM-DD]`: load Stripe's customers, invoices,
payments and credit notes (created on or after the date; all without it) through the
Stripe API, with the same writer as the webhook, silently: history is not news (events
are recorded as handled).
Needs `[stripe] enabled = true` and STRIPE_API_KEY."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from bot.errors import UsageError
from vault import audit, events
from vault.clock import SYSTEM
from vault.config import Config
from vault.stripe_events import StripeApi, StripeLedger

EXIT_OK = 0


def add_parser(sub: Any) -> None:
    stripe = sub.add_parser("stripe", help="Stripe: load its history (sync)")
    actions = stripe.add_subparsers(dest="stripe_command", required=True)
    sync = actions.add_parser("sync", help="load customers, invoices, payments and credit "
                              "notes, silently")
    sync.add_argument("--since", metavar="YYYY-MM-DD", type=_day,
                      help="only objects created on or after this day (UTC)")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


async def run(args: argparse.Namespace, config: Config) -> int:
    from bot.commands_cli import database, pdf_issuer  # on use: it loads the PDF renderer
    from vault.credit_notes import credit_note_issuer
    from vault.pdf import PdfRenderer

    stripe = config.stripe
    if stripe is None:
        raise UsageError(f"{config.source}: stripe.enabled is false")
    if not stripe.api_key:
        raise UsageError("STRIPE_API_KEY is not set; `stripe sync` reads Stripe's API with it")
    renderer = PdfRenderer()
    try:
        async with database(config), pdf_issuer(config, renderer, history_later=True) as issue:
            credits = credit_note_issuer(renderer, issue.store, config.seller, SYSTEM)
            ledger = StripeLedger(stripe, SYSTEM, config.seller.timezone, StripeApi(stripe),
                                  issue, credits)
            with events.silenced():
                synced = await ledger.sync(args.since)
            await audit.record("vault.stripe.sync", since=str(args.since or ""),
                               customers=synced.customers, invoices=synced.invoices,
                               payments=synced.payments, credit_notes=synced.credit_notes,
                               skipped=len(synced.skipped))
    finally:
        renderer.close()
    for reason in synced.skipped:
        print(f"skipped {reason}")
    print(f"stripe sync: {synced.customers} customers, {synced.invoices} invoices, "
          f"{synced.payments} payments, {synced.credit_notes} credit notes; "
          f"{len(synced.skipped)} skipped")
    return EXIT_OK
