"""What an import reports: the rows it rejected, or what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_ERRORS = 50


@dataclass(frozen=True)
class RowError:
    """One problem in the file. `line` is the physical line (header = 1); None: the file."""

    line: int | None
    message: str

    def describe(self, file_name: str) -> str:
        if self.line is None:
            return f"{file_name}: {self.message}"
        return f"{file_name} line {self.line}: {self.message}"


class ImportFailed(ValueError):
    """The file was rejected and nothing from it was written.

    str() gives one line per error, e.g.
    "invoices.csv line 7: due_date '2026-02-30' is not a date (YYYY-MM-DD)".
    """

    def __init__(self, file_name: str, errors: list[RowError]) -> None:
        self.file_name = file_name
        self.errors = errors
        super().__init__("\n".join(e.describe(file_name) for e in errors))


@dataclass
class ErrorLog:
    """Every problem of a file, found in one run: the first `limit` are kept to show,
    the rest only counted ("and 30 more problems"), so checking goes on to the end."""

    limit: int = MAX_ERRORS
    errors: list[RowError] = field(default_factory=list)
    more: int = 0  # problems found beyond the limit

    def add(self, line: int | None, message: str) -> None:
        if len(self.errors) < self.limit:
            self.errors.append(RowError(line, message))
        else:
            self.more += 1

    def report(self) -> list[RowError]:
        """What to show: the kept problems, then how many more there were."""
        if not self.more:
            return list(self.errors)
        noun = "problem" if self.more == 1 else "problems"
        return [*self.errors, RowError(None, f"and {self.more} more {noun} (the first "
                                             f"{self.limit} are shown)")]

    def __bool__(self) -> bool:
        return bool(self.errors)


@dataclass(frozen=True)
class ImportResult:
    """What one import changed. changed_invoice_ids: invoices created, updated or re-derived."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_invoice_ids: list[int] = field(default_factory=list)
