"""A progress bar on stderr for long files; silent when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

LONG_FILE = 1000  # rows; shorter files import faster than a bar could draw
T = TypeVar("T")


class ImportProgress:
    """Shows "checking" per row, then "writing" until closed, for files over LONG_FILE rows."""

    def __init__(self, file_name: str, enabled: bool = True, console: Console | None = None):
        self.file_name = file_name
        self.console = console or Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self._bar: Progress | None = None

    def rows(self, rows: Sequence[T]) -> Iterable[T]:
        if not self.enabled or len(rows) <= LONG_FILE:
            return rows
        self._bar = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), console=self.console, transient=True,
        )
        self._bar.start()
        return self._track(self._bar, rows)

    def _track(self, bar: Progress, rows: Sequence[T]) -> Iterator[T]:
        task = bar.add_task(f"checking {self.file_name}", total=len(rows))
        for row in rows:
            yield row
            bar.advance(task)

    def writing(self) -> None:
        if self._bar is not None:
            self._bar.add_task(f"writing {self.file_name}", total=None)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
