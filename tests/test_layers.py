"""Imports go one way: bot -> notifier -> vault (DESIGN.md). A module that imports upward
would tie the vault to one application or the notifier to the chat libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"vault": ("bot", "notifier"), "notifier": ("bot",)}


def upward_imports(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.split(".")[0] in FORBIDDEN[package]:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_packages_never_import_higher_ones(package: str) -> None:
    assert upward_imports(package) == []


def test_every_package_says_what_it_owns_and_must_not_import() -> None:
    for package in ("bot", "vault", "notifier"):
        doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text())) or ""
        assert "import" in doc, f"{package}/__init__.py does not say what it may import"


# Acting for a contact, code reads the ledger only through vault.invoices.AccountScope.
LEDGER = {"Invoice", "InvoiceLine", "Payment", "Document", "Dispute", "Statement", "Receipt"}
QUERIES = {"filter", "exclude", "all", "get", "get_or_none", "first", "raw", "annotate",
           "select_for_update", "exists", "create", "get_or_create", "update_or_create"}
# The operator's CLI acts for the seller (rendering every PDF, printing the audit trail).
OPERATOR_MODULES = {"bot/commands_cli.py"}


def ledger_queries(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if (isinstance(node, ast.Attribute) and node.attr in QUERIES
                and isinstance(node.value, ast.Name) and node.value.id in LEDGER):
            found.append(f"{where}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_the_bot_reads_the_ledger_only_through_the_account_scope() -> None:
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if name not in OPERATOR_MODULES:
            found += ledger_queries(path.read_text(), name)
    assert found == []


def test_the_scope_check_sees_a_direct_query() -> None:
    assert ledger_queries("rows = await Invoice.filter(number='1')\n", "x.py") == [
        "x.py:1: Invoice.filter"]
    assert ledger_queries("rows = await scope.invoices().filter(number='1')\n", "x.py") == []
