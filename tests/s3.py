"""A local S3 server for the S3 vault's tests: moto in server mode on loopback.

One server per test session (tests/conftest.py starts it on first use, or skips the S3
cases, saying why, when it cannot start); each test gets a bucket of its own. `VaultPlace`
is where a test's vault lives, a folder or a bucket, with what a test needs to reach behind
the store's back: the raw bytes of a key, and a way to damage or lose one.
"""

from __future__ import annotations

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
