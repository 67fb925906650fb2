"""What runs when. The scheduler only triggers: every tick is stateless and reads the truth
from the database, so a tick that fires twice, late, or in two processes does nothing
twice (unique keys, conditional updates, SKIP LOCKED on PostgreSQL). With several
instances each tick is also taken in turns (`claimed`): one instance runs it at a time.

    alerts    every notifier.tick  events -> notifications -> outbox; AR "at once" items;
                                   dead routes switched off; then wakes delivery
    sweep     hourly               open/partially paid past due -> overdue (+ events)
    due-soon  hourly               due-soon events, once per invoice and due date
    digests   every 5 minutes      contacts' digests and the AR digest, when due
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from notifier import alerts, ar_digest, digests
from vault import events
from vault.clock import Clock
from vault.invoices import sweep_overdue

log = logging.getLogger(__name__)
Tick = Callable[[], Awaitable[object]]


def _no_wake() -> None:
    return None


@dataclass
class Ticks:
    """The notifier's periodic work, on the service's clock (a fixed one in tests)."""

    context: alerts.AlertContext
    clock: Clock
    wake_delivery: Callable[[], None] = _no_wake

    def seller_today(self) -> date:
        return self.clock.today(self.context.config.seller.timezone.key)

    async def alerts(self) -> None:
        now = self.clock.now()
        await alerts.expand(self.context, now)
        await alerts.release(self.context, now, self.wake_delivery)
        await ar_digest.escalate_at_once(self.context, now)
        await alerts.reconcile(self.context, now)
        # Always: retries come due by time alone, and a wake costs one query.
        self.wake_delivery()

    async def sweep(self) -> None:
        changed = await sweep_overdue(self.seller_today(), self.clock.now())
        if changed:
            log.info("overdue sweep: %d invoices now overdue", changed)

    async def due_soon(self) -> None:
        days = self.context.config.alerts.due_soon_days
        await events.record_due_soon(self.seller_today(), days, self.clock.now())

    async def digests(self) -> None:
        now = self.clock.now()
        sent = await digests.contact_digests(self.context, now)
        sent += await ar_digest.ar_digest(self.context, now)
        if sent:
            self.wake_delivery()


def _unclaimed(name: str, tick: Tick) -> Tick:
    return tick


def add_jobs(
    scheduler: AsyncIOScheduler, ticks: Ticks, tick_seconds: float, *, alerting: bool = True,
    claimed: Callable[[str, Tick], Tick] = _unclaimed,
) -> None:
    """Register the ticks (without `alerting`, notifier.enabled = false: the sweep only).
    One run of each at a time in this process (max_instances=1); a run missed while the
    loop was busy is run once, not many times (coalesce). `claimed` wraps each tick so
    that, with several instances, one runs it at a time (vault.leases.Turns)."""
    common = {"max_instances": 1, "coalesce": True}
    scheduler.add_job(claimed("overdue-sweep", ticks.sweep), "interval", hours=1,
                      id="overdue-sweep", **common)
    if not alerting:
        return
    scheduler.add_job(claimed("alerts", ticks.alerts), "interval", seconds=tick_seconds,
                      id="alerts", **common)
    scheduler.add_job(claimed("due-soon", ticks.due_soon), "interval", hours=1, id="due-soon",
                      **common)
    scheduler.add_job(claimed("digests", ticks.digests), "interval", minutes=5, id="digests",
                      **common)
