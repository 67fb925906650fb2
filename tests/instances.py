"""Several real `invoicebot serve` processes on one database and one vault, for tests:
each on fixed ports of its own (a restart comes back where it was), its log in a file.

    async with Cluster(env, logs) as cluster:
        a, b, c = await cluster.start(3)
        await b.kill()            # SIGKILL: no clean-up, no release of anything
        await cluster.restart(b)  # the same ports, a new process (a new instance name)
"""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
import socket
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from tests.harness import SMTP_CLIENTS

ROOT = Path(__file__).parents[1]
START_TIMEOUT = 90  # seconds: three processes importing everything on two cores


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Instance:
    name: str  # the test's name for it: a, b, c
    smtp_port: int
    http_port: int
    log: Path
    process: asyncio.subprocess.Process | None = None
    pids: list[int] = field(default_factory=list)  # every process it has been

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    async def kill(self) -> None:
        """SIGKILL: the process gets no chance to release a lease or a claim."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def send(self, msg: EmailMessage) -> None:
        """Hand a request to this instance's SMTP listener (as an MX spreading mail)."""
        raw = re.sub(rb"(?<!\r)\n", b"\r\n", msg.as_bytes())

        def deliver() -> None:
            with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
                smtp.sendmail("bounce@sender.example", ["invoices@localhost"], raw)

        await asyncio.get_running_loop().run_in_executor(SMTP_CLIENTS, deliver)


class Cluster:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICEBOT_")}
        self.env |= env | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.logs = logs
        self.instances: list[Instance] = []

    async def start(self, count: int) -> list[Instance]:
        made = [Instance(chr(ord("a") + len(self.instances) + n), free_port(), free_port(),
                         self.logs / f"serve-{chr(ord('a') + len(self.instances) + n)}.log")
                for n in range(count)]
        self.instances += made
        await asyncio.gather(*(self._run(instance) for instance in made))
        return made

    async def restart(self, instance: Instance) -> None:
        await self._run(instance)

    def by_pid(self, pid: int) -> Instance:
        return next(i for i in self.instances if pid in i.pids)

    async def _run(self, instance: Instance) -> None:
        env = self.env | {"INVOICEBOT_EMAIL_LISTEN": f"127.0.0.1:{instance.smtp_port}",
                          "INVOICEBOT_HTTP_LISTEN": f"127.0.0.1:{instance.http_port}"}
        with instance.log.open("ab") as log:  # the child writes to its own copy
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-X", "faulthandler", "-m", "bot.cli", "serve", env=env,
                cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=log)
        instance.process = process
        instance.pids.append(process.pid)
        assert process.stdout is not None
        try:
            async with asyncio.timeout(START_TIMEOUT):
                while b"invoicebot: SMTP on" not in (line := await process.stdout.readline()):
                    assert line, f"serve {instance.name} ended:\n{instance.log.read_text()}"
        except TimeoutError:
            raise AssertionError(f"serve {instance.name} did not start:\n"
                                 f"{instance.log.read_text()[-4000:]}") from None

    def logged(self) -> str:
        return "\n".join(f"--- {i.name}\n{i.log.read_text()[-3000:]}" for i in self.instances)

    async def __aenter__(self) -> Cluster:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for instance in self.instances:
            process = instance.process
            if process is not None and process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
