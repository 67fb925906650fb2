"""[vault]: where the documents are stored (vault.storage).

`url` is "file:FOLDER" (the embedded default) or "s3://BUCKET/PREFIX" (any S3-compatible
object store, `s3_endpoint` and `s3_region` to reach it, credentials from the usual AWS
environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). `path` is the older name of a
folder and stays an alias: `path = "var/vault"` means `url = "file:var/vault"`.

Kept apart from vault.config, which calls `vault_config`; this module imports nothing of
ours at load time, so vault.config can import VaultConfig.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vault.config_sources import Origins

# [vault] keys and their defaults (vault.config.DEFAULTS uses them as the section).
DEFAULTS: dict[str, Any] = {
    "url": "file:var/vault",  # or "s3://BUCKET/PREFIX"
    "path": "var/vault",  # the older name: path = "X" is url = "file:X"
    "s3_endpoint": "",  # "" is AWS itself; http(s)://host:port for MinIO, Ceph, moto ...
    "s3_region": "",  # "" takes AWS_REGION / AWS_DEFAULT_REGION, else us-east-1
    "s3_presign": False,  # downloads redirect (302) to a short-lived presigned URL
}
# Bucket names as S3 allows them (3-63 lower-case letters, digits, dots and hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class VaultConfig:
    """Where documents live: a folder, or a bucket and a prefix in an object store."""

    url: str = "file:var/vault"
    setting: str = "vault.url"  # the key it came from, for messages ("vault.path" too)
    folder: Path | None = Path("var/vault")  # the file backend's root; None for S3
    bucket: str = ""
    prefix: str = ""  # "" or "some/prefix", without slashes at either end
    s3_endpoint: str = ""
    s3_region: str = ""
    s3_presign: bool = False

    @property
    def shown(self) -> str:
        """The place, as an operator wrote it: the folder, or the s3:// URL."""
        return str(self.folder) if self.folder is not None else self.url


def vault_config(section: dict[str, Any], at: Origins) -> VaultConfig:
    from vault.config import ConfigError

    key, value = _chosen(section, at)
    where = at("vault", key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    presign = section["s3_presign"]
    if not isinstance(presign, bool):
        raise ConfigError(f"{at('vault', 's3_presign')}: expected true or false, got {presign!r}")
    endpoint, region = (_plain(section, key, at) for key in ("s3_endpoint", "s3_region"))
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"{at('vault', 's3_endpoint')}: {endpoint!r} must start with "
                          "http:// or https://")
    text = value.strip()
    if key == "path":
        text = f"file:{text}"
    setting = f"vault.{key}"
    if text.startswith("file:") and len(text) > len("file:"):
        if presign:
            raise ConfigError(f"{at('vault', 's3_presign')}: true, but {setting} is a folder; "
                              "presigned URLs need an s3:// vault")
        return VaultConfig(text, setting, Path(text.removeprefix("file:")))
    if text.startswith("s3://"):
        bucket, _, prefix = text.removeprefix("s3://").partition("/")
        if not _BUCKET.match(bucket):
            raise ConfigError(f"{where}: {bucket!r} is not an S3 bucket name")
        return VaultConfig(text, setting, None, bucket, prefix.strip("/"), endpoint.rstrip("/"),
                           region, presign)
    raise ConfigError(f"{where}: {text!r} must be file:FOLDER or s3://BUCKET/PREFIX")


def _chosen(section: dict[str, Any], at: Origins) -> tuple[str, Any]:
    """url or its alias path: the environment overrides the file, the file the defaults.
    Both set in the same place, and naming different folders, is a mistake to point out."""
    for layer in (at.from_env, at.from_file):
        named = [key for key in ("url", "path") if ("vault", key) in layer]
        if named == ["url", "path"] and section["url"] != f"file:{section['path']}":
            from vault.config import ConfigError

            raise ConfigError(f"{at('vault', 'url')} and {at('vault', 'path')} are both set "
                              "and differ; set only url (path is its older name)")
        if named:
            return named[0], section[named[0]]
    return "url", section["url"]


def _plain(section: dict[str, Any], key: str, at: Origins) -> str:
    from vault.config import ConfigError

    value = section[key]
    if not isinstance(value, str):
        raise ConfigError(f"{at('vault', key)}: expected a string, got {value!r}")
    return value.strip()
