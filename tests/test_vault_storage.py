"""The vault on S3 as on a folder: `invoicebot vault migrate` between them keeps every
document byte for byte, `invoicebot vault verify` names what is lost or damaged, and a
presigned download leads to the PDF itself. The CLI runs as operators run it: a process."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.errors import StartupError
from bot.service import Service
from tests.s3 import SUITE_VAULT, MotoS3, VaultPlace
from tests.test_cli import Cli, make_cli
from tests.test_web import add_invoice, client_for, pdf_bytes
from vault import links, render_queue, web
from vault.clock import SYSTEM
from vault.config import Config, ConfigError, load_config
from vault.documents import DocumentStore
from vault.invoices import AccountScope
from vault.links import LinkSigner
from vault.models import Account, AuditEvent, Contact, Document, Invoice
from vault.pdf import PdfRenderer


def on(cli: Cli, place: VaultPlace) -> Cli:
    """The same CLI with its vault at `place` ([vault] url, from the environment)."""
    env = {k: v for k, v in cli.env.items() if not k.startswith("INVOICEBOT_VAULT_")}
    return Cli(env=env | place.env, config=cli.config)


def files_by_hash(folder: Path) -> dict[str, bytes]:
    found = [p for p in folder.rglob("*.pdf") if p.is_file()]
    return {hashlib.sha256(p.read_bytes()).hexdigest(): p.read_bytes() for p in found}


async def test_migrate_from_a_folder_to_s3_and_back_keeps_every_document_byte_identical(
    orm: str, tmp_path: Path, database_url: str, moto_s3: MotoS3, renderer: PdfRenderer,
) -> None:
    folder = VaultPlace.folder(tmp_path / "vault")
    bucket, back = VaultPlace.bucket(moto_s3), VaultPlace.folder(tmp_path / "returned")
    cli = on(make_cli(tmp_path, database_url), folder)  # after moto_s3: AWS_* are set
    await cli.load("accounts", "contacts", "invoices")
    # The file's invoices are history: their PDFs come from serve's render queue.
    store = DocumentStore.open(folder.config)
    try:
        seller = load_config(cli.config, env=cli.env).seller
        await render_queue.render_pending(renderer, store, seller, clock=SYSTEM)
    finally:
        await store.close()
    documents = await Document.all()
    assert len(documents) >= 4
    original = files_by_hash(tmp_path / "vault")
    assert sorted(original) == sorted(d.sha256 for d in documents)

    code, out, err = await cli.run("vault", "migrate", "--to", bucket.config.url,
                                   "--endpoint", moto_s3.endpoint)
    assert code == 0, err
    assert f"{len(documents)} documents: {len(documents)} copied, 0 already there" in out
    for document in documents:
        stored = bucket.raw(document.storage_key)
        assert hashlib.sha256(stored).hexdigest() == document.sha256

    code, out, _ = await cli.run("vault", "migrate", "--to", bucket.config.url,
                                 "--endpoint", moto_s3.endpoint)
    assert (code, f"0 copied, {len(documents)} already there") == (0, out.split(": ", 1)[1]
                                                                  .split(", 0 failed")[0])

    code, out, err = await on(cli, bucket).run("vault", "migrate", "--to", back.config.url)
    assert code == 0, err
    assert files_by_hash(tmp_path / "returned") == original


async def test_verify_names_the_missing_and_the_corrupt_document(
    orm: str, tmp_path: Path, database_url: str, storage: VaultPlace
) -> None:
    store = DocumentStore.open(storage.config)
    kept, lost, damaged = [await store.put(pdf_bytes(n)) for n in ("A-1", "A-2", "A-3")]
    cli = on(make_cli(tmp_path, database_url), storage)

    code, out, _ = await cli.run("vault", "verify")
    assert (code, out.splitlines()[-1]) == (
        0, f"{storage.config.url}: 3 documents checked, 0 missing, 0 corrupt")

    storage.remove(lost.storage_key)
    storage.damage(damaged.storage_key, pdf_bytes("A-4"))  # the same size, other bytes
    code, out, _ = await cli.run("vault", "verify")

    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"document {lost.id} missing: {lost.storage_key}"
    assert lines[1].startswith(f"document {damaged.id} corrupt: {damaged.storage_key}: sha256 ")
    assert lines[-1] == f"{storage.config.url}: 3 documents checked, 1 missing, 1 corrupt"
    assert len(lines) == 3  # the kept document is not named
    assert await store.missing([kept]) == []
    await store.close()


async def test_migrate_to_an_unknown_kind_of_place_is_refused_naming_the_option(
    orm: str, tmp_path: Path, database_url: str
) -> None:
    code, _, err = await make_cli(tmp_path, database_url).run("vault", "migrate", "--to",
                                                               "ftp://somewhere/vault")
    assert code == 2
    assert "--to: 'ftp://somewhere/vault' must be file:FOLDER or s3://BUCKET/PREFIX" in err


async def test_a_presigned_download_is_audited_then_redirects_to_the_pdf(
    orm: str, config: Config, moto_s3: MotoS3
) -> None:
    place = VaultPlace.bucket(moto_s3, presign=True)
    store = DocumentStore.open(place.config)
    acme = await Account.create(account_id="ACME", name="Acme")
    contact = await Contact.create(account=acme, email="ap@acme.example")
    document = await add_invoice(store, acme, "INV-2026-0042")
    row = await links.grant(await AccountScope.for_contact(contact), [document],
                            "INV-2026-0042", timedelta(days=7), SYSTEM.now())
    signer = LinkSigner(config.secret_keys)
    async with client_for(web.create_app(config, store, signer, SYSTEM)) as client:
        answer = await client.get(f"/d/{signer.sign(row.id)}")
        assert await AuditEvent.filter(action="vault.document.download").count() == 1
    await store.close()

    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(f"{moto_s3.endpoint}/{place.config.bucket}/vault/sha256/")
    assert answer.headers["cache-control"] == "no-store"
    async with httpx.AsyncClient() as browser:
        pdf = await browser.get(location)
    assert pdf.status_code == 200
    assert pdf.content == pdf_bytes("INV-2026-0042")
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="INV-2026-0042.pdf"' in pdf.headers["content-disposition"]


def test_presigning_a_folder_vault_is_a_config_error(make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expected = "INVOICEBOT_VAULT_S3_PRESIGN (environment): true, but vault.path is a folder"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        make_config(INVOICEBOT_VAULT_PATH=str(tmp_path / "vault"),
                    INVOICEBOT_VAULT_S3_PRESIGN="true")


def test_vault_url_of_an_unknown_scheme_is_a_config_error_naming_vault_url(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[vault]\nurl = "ftp://files.example/vault"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(path, env={})
    assert str(refused.value) == (
        f"{path}: vault.url: 'ftp://files.example/vault' must be file:FOLDER or "
        "s3://BUCKET/PREFIX")


def test_vault_path_stays_an_alias_of_a_file_url(make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(INVOICEBOT_VAULT_PATH=str(tmp_path / "vault"))  # as set-ups have it
    assert (config.vault.url, config.vault.folder) == (f"file:{tmp_path / 'vault'}",
                                                       tmp_path / "vault")
    s3 = make_config(INVOICEBOT_VAULT_URL="s3://invoices/prod/eu",
                     INVOICEBOT_VAULT_S3_ENDPOINT="http://127.0.0.1:9000")
    assert (s3.vault.folder, s3.vault.bucket, s3.vault.prefix, s3.vault.s3_endpoint) == (
        None, "invoices", "prod/eu", "http://127.0.0.1:9000")


def test_vault_url_and_path_naming_different_places_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[vault]\nurl = "s3://invoices/prod"\npath = "var/vault"\n')
    with pytest.raises(ConfigError, match="are both set and differ; set only url"):
        load_config(path, env={})


async def test_serve_refuses_to_start_on_a_bucket_it_cannot_write(
    make_config, orm: str, moto_s3: MotoS3  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(INVOICEBOT_VAULT_URL="s3://no-such-bucket/vault",
                         INVOICEBOT_VAULT_S3_ENDPOINT=moto_s3.endpoint)
    service = Service(config)
    try:
        with pytest.raises(StartupError) as refused:
            await service.start()
    finally:
        await service.stop()
    assert str(refused.value).startswith(
        "vault.url s3://no-such-bucket/vault: not writable: An error occurred (NoSuchBucket)")


async def test_the_suite_runs_on_the_vault_invoicebot_test_vault_names(  # type: ignore[no-untyped-def]
    orm: str, tmp_path: Path, database_url: str, make_config, vault_place: VaultPlace
) -> None:
    """What .ci/run's S3 pass relies on: the service's config and the CLI (a process of its
    own) both use the suite's vault, and the PDF a request rendered is in it."""
    assert make_config().vault.url == vault_place.config.url
    assert vault_place.config.url.startswith({"file": "file:", "s3": "s3://"}[SUITE_VAULT])
    cli = make_cli(tmp_path, database_url)
    await cli.load("accounts", "contacts", "invoices")  # history: its PDFs are rendered later
    code, out, err = await cli.run("ask", "--from", "ap@acme.example", "invoice",
                                   "INV-2026-0301")
    assert code == 0, err
    assert "http://links.invoicebot.test/d/" in out  # rendered within the request
    invoice = await Invoice.get(number="INV-2026-0301")
    document = await Document.get(id=invoice.document_id)
    stored = vault_place.raw(document.storage_key)
    assert stored.startswith(b"%PDF") and len(stored) == document.size
    assert hashlib.sha256(stored).hexdigest() == document.sha256
