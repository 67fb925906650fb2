"""What an import shows while it works, on stderr: checking the rows, writing, rendering
the PDFs, each with a count and a rate, from the first row.

On a terminal it is a live bar (rich). Elsewhere (a log, a pipe, cron) it is silent,
unless asked for (`always`, the CLI's --progress): then it prints plain lines, at the
start of each step, about every tenth of it, and at its end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

T = TypeVar("T")


class RateColumn(ProgressColumn):
    """ "412 rows/s", from rich's own moving estimate of the task's speed."""

    def render(self, task: Task) -> Text:
        unit = str(task.fields.get("unit", ""))
        if task.speed is None or not unit:
            return Text("")
        return Text(f"{task.speed:,.0f} {unit}/s", style="progress.data.speed")


@dataclass
class _Step:
    """One step reported as plain lines."""

    verb: str  # "checked", "rendered"
    unit: str  # "rows", "PDFs"
    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    shown: int = 0  # the count last printed

    def line(self, file_name: str) -> str:
        seconds = max(time.monotonic() - self.started, 1e-6)
        return (f"{file_name}: {self.verb} {self.done} of {self.total} {self.unit} "
                f"({self.done / seconds:,.0f} {self.unit}/s)")


class ImportProgress:
    """Progress of one file's import. Each step is started by rows(), writing() or
    rendering(); close() ends the display."""

    def __init__(self, file_name: str, enabled: bool = True, console: Console | None = None,
                 *, always: bool = False):
        self.file_name = file_name
        self.console = console or Console(stderr=True)
        self.live = enabled and self.console.is_terminal
        self.lines = enabled and always and not self.live
        self._bar: Progress | None = None

    def rows(self, rows: Sequence[T]) -> Iterable[T]:
        """The rows, counted as they are checked."""
        return self._counted(rows, f"checking {self.file_name}", "checked", "rows")

    def writing(self) -> None:
        """The checked file is being written (one transaction: no count to show)."""
        if self.lines:
            self._say(f"{self.file_name}: writing")
        bar = self._live()
        if bar is not None:
            for task in bar.tasks:
                bar.update(task.id, visible=False)
            bar.add_task(f"writing {self.file_name}", total=None)

    def rendering(self, total: int) -> Callable[[], None]:
        """A tick to call as each of `total` invoice PDFs is rendered and stored."""
        if self.lines:
            self._say(f"{self.file_name}: rendering {total} PDFs")
            step = _Step("rendered", "PDFs", total)
            return lambda: self._line_tick(step)
        bar = self._live()
        if bar is None:
            return lambda: None
        for task in bar.tasks:
            bar.update(task.id, visible=False)
        task_id = bar.add_task("rendering PDFs", total=total, unit="PDFs")
        return lambda: bar.advance(task_id)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _counted(self, items: Sequence[T], description: str, verb: str,
                 unit: str) -> Iterable[T]:
        if self.lines:
            self._say(f"{self.file_name}: checking {len(items)} {unit}")
            return self._lines(items, _Step(verb, unit, len(items)))
        bar = self._live()
        if bar is None:
            return items
        return self._track(bar, bar.add_task(description, total=len(items), unit=unit), items)

    def _live(self) -> Progress | None:
        if not self.live:
            return None
        if self._bar is None:
            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(),
                console=self.console, transient=True,
            )
            self._bar.start()
        return self._bar

    @staticmethod
    def _track(bar: Progress, task: TaskID, items: Sequence[T]) -> Iterator[T]:
        for item in items:
            yield item
            bar.advance(task)

    def _lines(self, items: Sequence[T], step: _Step) -> Iterator[T]:
        for item in items:
            yield item
            self._line_tick(step)
        if not items:
            self._say(step.line(self.file_name))

    def _line_tick(self, step: _Step) -> None:
        step.done += 1
        if step.done == step.total or step.done - step.shown >= max(step.total // 10, 1):
            step.shown = step.done
            self._say(step.line(self.file_name))

    def _say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)
