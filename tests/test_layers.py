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
