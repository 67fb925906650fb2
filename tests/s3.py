"""A local S3 server for the S3 vault's tests: moto in server mode on loopback.

One server per test session (tests/conftest.py starts it on first use, or skips the S3
cases, saying why, when it cannot start); each test gets a bucket of its own. `VaultPlace`
is where a test's vault lives, a folder or a bucket, with what a test needs to reach behind
the store's back: the raw bytes of a key, and a way to damage or lose one.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.config_vault import VaultConfig

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1",
               # never look for an instance role at 169.254.169.254 (the network guard would)
               "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}


# Where the whole suite keeps its vaults: "file" (a folder per test, the default) or "s3"
# (a bucket per test on one moto server per worker). .ci/run runs the PostgreSQL pass with
# "s3", so every test that runs the service, the CLI or a world does so on both backends.
SUITE_VAULTS = ("file", "s3")
SUITE_VAULT = os.environ.get("INVOICEBOT_TEST_VAULT", "file")
if SUITE_VAULT not in SUITE_VAULTS:
    raise SystemExit(f"INVOICEBOT_TEST_VAULT={SUITE_VAULT!r}: expected one of {SUITE_VAULTS}")


class MotoS3:
    """moto's S3 on 127.0.0.1, on a port the OS picks."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def start(self) -> None:
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.stop()

    def client(self) -> Any:
        import boto3  # moto's own dependency: a plain synchronous client for set-up

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")

    def new_bucket(self) -> str:
        name = f"vault-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name


@dataclass
class VaultPlace:
    """A test's vault: a folder (kind "file") or a bucket on the moto server (kind "s3")."""

    kind: str
    config: VaultConfig
    env: dict[str, str]  # INVOICEBOT_VAULT_* for make_config and child processes
    s3: MotoS3 | None = None

    @classmethod
    def folder(cls, root: Path) -> VaultPlace:
        return cls("file", VaultConfig(f"file:{root}", "vault.url", root),
                   {"INVOICEBOT_VAULT_URL": f"file:{root}"})

    @classmethod
    def bucket(cls, s3: MotoS3, presign: bool = False) -> VaultPlace:
        name = s3.new_bucket()
        url = f"s3://{name}/vault"
        config = VaultConfig(url, "vault.url", None, name, "vault", s3.endpoint, "us-east-1",
                             presign)
        env = {"INVOICEBOT_VAULT_URL": url, "INVOICEBOT_VAULT_S3_ENDPOINT": s3.endpoint,
               "INVOICEBOT_VAULT_S3_REGION": "us-east-1"}
        if presign:
            env["INVOICEBOT_VAULT_S3_PRESIGN"] = "true"
        return cls("s3", config, env, s3)

    def raw(self, key: str) -> bytes:
        if self.s3 is None:
            assert self.config.folder is not None
            return (self.config.folder / key).read_bytes()
        answer = self.s3.client().get_object(Bucket=self.config.bucket, Key=self._object(key))
        return answer["Body"].read()  # type: ignore[no-any-return]

    def remove(self, key: str) -> None:
        """Lose a stored object behind the store's back."""
        if self.s3 is None:
            assert self.config.folder is not None
            (self.config.folder / key).unlink()
        else:
            self.s3.client().delete_object(Bucket=self.config.bucket, Key=self._object(key))

    def damage(self, key: str, data: bytes) -> None:
        """Replace a stored object's bytes behind the store's back."""
        if self.s3 is None:
            assert self.config.folder is not None
            path = self.config.folder / key
            path.chmod(0o600)
            path.write_bytes(data)
        else:
            self.s3.client().put_object(Bucket=self.config.bucket, Key=self._object(key),
                                        Body=data)

    def _object(self, key: str) -> str:
        return f"{self.config.prefix}/{key}" if self.config.prefix else key


_shared: MotoS3 | None = None
_buckets: dict[Path, VaultPlace] = {}  # one bucket per test folder, whoever asks for it


def shared_s3() -> MotoS3:
    """This process's one moto server, started on first use; the AWS credentials it accepts
    go into the environment, so child processes (serve, the CLI) inherit them."""
    global _shared
    if _shared is None:
        server = MotoS3()
        server.start()
        os.environ.update(CREDENTIALS)
        _shared = server
    return _shared


def suite_place(folder: Path) -> VaultPlace:
    """The vault a test gets unless it asks for one: the folder, or under
    INVOICEBOT_TEST_VAULT=s3 a new bucket. With "s3" a server that cannot start fails the
    test, naming why: the run asked for S3, so it must not quietly test folders."""
    if SUITE_VAULT == "s3":
        if folder not in _buckets:  # the test's config, CLI and fixtures share one bucket
            _buckets[folder] = VaultPlace.bucket(shared_s3())
        return _buckets[folder]
    return VaultPlace.folder(folder)


def suite_vault_env(folder: Path) -> dict[str, str]:
    """INVOICEBOT_VAULT_* for a test's service or CLI (with the bucket's credentials, for a
    child process whose environment was copied before the server started). With folders
    this is the older `INVOICEBOT_VAULT_PATH` that existing set-ups use (`url` is tested
    on its own)."""
    if SUITE_VAULT == "s3":
        return suite_place(folder).env | CREDENTIALS
    return {"INVOICEBOT_VAULT_PATH": str(folder)}
