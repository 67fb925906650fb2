"""Delivery worker processes for tests: `python -m tests.delivery_worker` as a real OS
process, its stdout read line by line, its stderr kept in a file for the failure report."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

from vault.models import OutboxMessage
from vault.vocabulary import OutboxState

ROOT = Path(__file__).parents[1]


class WorkerProcess:
    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process, self.log = process, log

    @classmethod
    async def start(cls, database_url: str, relay_port: int, log: Path,
                    *options: str) -> WorkerProcess:
        with log.open("wb") as stderr:  # the child writes to its own copy
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.delivery_worker", "--db", database_url,
                "--relay", f"127.0.0.1:{relay_port}", *options,
                cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=stderr)
        return cls(process, log)

    async def expect(self, word: str, timeout: float = 20) -> str:
        """The rest of the next line on stdout, which must start with `word`."""
        assert self.process.stdout is not None
        line = (await asyncio.wait_for(self.process.stdout.readline(), timeout)).decode()
        assert line.startswith(word + " ") or line.strip() == word, (
            f"worker said {line!r}, expected {word!r}; its stderr:\n{self.log.read_text()}")
        return line.strip().removeprefix(word).strip()

    async def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def finish(self, timeout: float = 30) -> int:
        """Close its stdin (the scheduler worker's signal to stop); its `sent` count."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        sent = int(await self.expect("sent", timeout))
        assert await asyncio.wait_for(self.process.wait(), timeout) == 0, self.log.read_text()
        return sent

    async def kill(self) -> None:
        self.process.kill()  # SIGKILL: no clean-up, no last words
        await self.process.wait()


class Workers:
    """Starts worker processes on one database and relay; kills any still running at the
    end, so a failing test leaves no process behind."""

    def __init__(self, database_url: str, relay_port: int, logs: Path) -> None:
        self.database_url, self.relay_port, self.logs = database_url, relay_port, logs
        self.started: list[WorkerProcess] = []

    async def start(self, name: str, *options: str) -> WorkerProcess:
        worker = await WorkerProcess.start(self.database_url, self.relay_port,
                                           self.logs / f"{name}.log", *options)
        self.started.append(worker)
        await worker.expect("ready")
        return worker

    async def __aenter__(self) -> Workers:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for worker in self.started:
            if worker.process.returncode is None:
                await worker.kill()


async def states() -> Counter[str]:
    """How many outbox rows are in each state."""
    return Counter(await OutboxMessage.all().values_list("state", flat=True))  # type: ignore[arg-type]


async def check_invariant(enqueued: int) -> Counter[str]:
    """sent + pending + dead == enqueued, where pending is every row not yet final
    (waiting, held by a worker, or failed and due again): no row lost or made up."""
    counts = await states()
    waiting = counts[OutboxState.PENDING] + counts[OutboxState.SENDING] + counts[OutboxState.FAILED]
    assert counts[OutboxState.SENT] + waiting + counts[OutboxState.DEAD] == enqueued, counts
    assert set(counts) <= set(OutboxState), counts
    return counts
