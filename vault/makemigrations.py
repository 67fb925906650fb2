"""Developer helper behind `make migrations`: write a migration for model changes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        module = os.path.join(tmp, "_mkcfg.py")
        with open(module, "w") as handle:
            handle.write("from vault.db import tortoise_config\n")
            handle.write(f"TORTOISE_ORM = tortoise_config('sqlite://{tmp}/mk.db')\n")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([tmp, os.getcwd()]))
        tortoise = os.path.join(os.path.dirname(sys.executable), "tortoise")
        for step in (["migrate"], ["makemigrations", "vault"]):
            done = subprocess.run([tortoise, "-c", "_mkcfg.TORTOISE_ORM", *step], env=env)
            if done.returncode:
                return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
