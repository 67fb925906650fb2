"""What else went on during a measured phase: GC pauses, event-loop stalls, and who used
the CPUs (our processes, the database server, everything else, the hypervisor)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from pathlib import Path


class Watch:
    """What else went on during a phase: this process's GC pauses, and who used the CPUs
    (this process, the load generator, our database server processes, everything else on
    the machine, the hypervisor's steal)."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.pauses: list[float] = []
        self._gc_started = 0.0

    def __enter__(self) -> Watch:
        gc.callbacks.append(self._gc)
        self.before, self.started = self._cpu(), time.perf_counter()
        self.lags: list[float] = []
        self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._gc)
        self._ticker.cancel()
        self.after, self.elapsed = self._cpu(), time.perf_counter() - self.started

    async def _tick(self, period: float = 0.005) -> None:
        """How late a 5 ms timer fires: the time the event loop was blocked (CPU, GC),
        as opposed to time a request spent waiting (on SQLite's thread, the network)."""
        while True:
            due = time.perf_counter() + period
            await asyncio.sleep(period)
            self.lags.append(time.perf_counter() - due)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._gc_started)

    def _cpu(self) -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
        out = {"busy": (user + nice + system + irq + softirq) / tick, "steal": steal / tick}
        for name, pids in self.pids.items():
            for pid in pids:
                with contextlib.suppress(OSError):  # gone: counted in "busy" only
                    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                    out[f"{name}:{pid}"] = (int(stat[11]) + int(stat[12])) / tick
        return out

    def used(self) -> dict[str, float]:
        """Cores used during the phase, per name in self.pids, plus busy and steal."""
        out = {"busy": 0.0, "steal": 0.0, **{name: 0.0 for name in self.pids}}
        for key in self.before.keys() & self.after.keys():
            out[key.partition(":")[0]] += (self.after[key] - self.before[key]) / self.elapsed
        return out

    def other_cores(self) -> float:
        used = self.used()
        return max(used["busy"] - sum(used[name] for name in self.pids), 0.0)

    def summary(self) -> list[tuple[str, str]]:
        used, other = self.used(), self.other_cores()
        return [
            ("  CPU cores used: " + " / ".join(self.pids) + " / other processes / steal",
             " / ".join(f"{used[name]:.2f}" for name in self.pids)
             + f" / {other:.2f} / {used['steal']:.2f}"),
            ("  GC pauses in the service process: count, max ms",
             f"{len(self.pauses)}, {max(self.pauses, default=0) * 1000:.1f}"),
            ("  event loop blocked > 20 ms: count, max ms",
             f"{sum(lag > 0.02 for lag in self.lags)}, {max(self.lags, default=0) * 1000:.1f}"),
        ]


async def database_pids() -> list[int]:
    """PostgreSQL backends serving our (benchmark-only) database; none for SQLite."""
    from tortoise import connections

    conn = connections.get("default")
    if conn.capabilities.dialect != "postgres":
        return []
    rows = await conn.execute_query_dict(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return [int(row["pid"]) for row in rows]


