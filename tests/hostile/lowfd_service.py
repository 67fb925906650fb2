"""The service in a child process with few file descriptors left, for
test_http_fd_exhaustion: `python -m tests.hostile.lowfd_service CONFIG SPARE`.

It starts the service from CONFIG (a config.toml; secrets from the environment), lowers
its soft RLIMIT_NOFILE to what is open now plus SPARE, prints "ready PORT" and serves
until its stdin closes. Logs go to stderr as the service writes them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import sys

from bot.service import Service
from vault.config import load_config


async def main(config_path: str, spare: int) -> None:
    service = Service(load_config(config_path))
    await service.start()
    try:
        opened = len(os.listdir("/proc/self/fd"))
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (opened + spare, hard))
        print(f"ready {service.http_port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await service.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
