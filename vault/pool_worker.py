"""What every worker process of ours does first: end when the process that started it ends.

Two pools start worker processes: PDF rendering (vault.pdf) and the reading of inbound
mail (bot.mailworker). A pool worker waits on its queue for ever; after a SIGKILL of the
service (or any death that skips the pool's shutdown) it would stay as an orphan holding
memory and the service's inherited stdout/stderr, so whoever waits for those pipes to
close (a supervisor, a shell pipeline, a test) waits for ever too.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time


def exit_with_parent(poll_seconds: float = 0.5) -> None:
    """End this worker when the process that started it is gone, however it ended.

    Not PR_SET_PDEATHSIG: that follows the thread that spawned the worker, which may be a
    short-lived helper thread.
    """
    # Not os.getppid() now: the parent may have died while this worker was still importing,
    # and then the orphan's parent is already init.
    started_by = multiprocessing.parent_process()
    parent = started_by.pid if started_by is not None else os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
