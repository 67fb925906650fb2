"""Planning inserts and updates of simple rows (accounts, contacts) without per-row queries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tortoise.models import Model

M = TypeVar("M", bound=Model)
S = TypeVar("S")

# Rows per IN (...) list or bulk statement: well under SQLite's bound-parameter limit.
BATCH = 500


def chunks(items: Sequence[S], size: int = BATCH) -> Iterator[Sequence[S]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Upserts(Generic[M]):
    """Rows to create, rows to update (already carrying their new values), and a count."""

    creates: list[M] = field(default_factory=list)
    updates: list[M] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)
    unchanged: int = 0

    def add(self, model: type[M], existing: M | None, values: dict[str, Any]) -> None:
        """Create the row, or update the columns the file gives that differ, or count it."""
        if existing is None:
            self.creates.append(model(**values))
            return
        changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
        if not changed:
            self.unchanged += 1
            return
        for key, value in changed.items():
            setattr(existing, key, value)
        self.updates.append(existing)
        self.fields.update(changed)

    def counts(self) -> tuple[int, int, int]:
        """(created, updated, unchanged)"""
        return len(self.creates), len(self.updates), self.unchanged

    async def write(self, model: type[M]) -> None:
        """Call inside the import's transaction."""
        if self.creates:
            await model.bulk_create(self.creates, batch_size=BATCH)
        if self.updates:
            await model.bulk_update(self.updates, sorted(self.fields), batch_size=BATCH)
