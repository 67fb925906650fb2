"""The feed folder (`[ingest] watch`): CSV files dropped there are imported as by
`invoicebot import`, then moved to processed/ or failed/ inside the folder.

- Which files: regular files directly in the folder. Dotfiles and `*.part` are being
  written (a writer that renames into place when done never shows a half file) and are
  left alone, as are processed/ and failed/.
- When: a file is taken once two looks at least `settle` seconds apart found the same size
  and mtime; a file still growing keeps changing and waits.
- What: the kind comes from the name, `accounts*.csv`, `contacts*.csv`, `invoices*.csv`,
  `credit-notes*.csv`, `payments*.csv` (any case). A file whose kind cannot be told goes
  to failed/ with a report saying so. Files are taken accounts first, then contacts,
  invoices, credit notes and payments,
  each kind by name; while a file of an earlier kind is still settling, later kinds wait
  (invoices need their accounts).
- How: all or nothing (import_csv: every row is checked before one transaction writes).
  A rejected file goes to failed/NAME with failed/NAME.report.txt beside it, one line per
  bad row as the importer reports it ("invoices.csv line 7: ..."). A failure that is not
  the file's (the database unreachable) raises, and the file stays for the next look.
- Once only: the record of what was imported is the processed/ folder's names. An
  imported file is kept as processed/STEM.HASH.SUFFIX, HASH the first 16 hex digits of
  the SHA-256 of its content. A file dropped again whose name and content already have a
  processed copy is not imported again (it replaces that identical copy); changed content
  has another hash and is imported. Emptying processed/ forgets the record, which is
  safe: importing an unchanged file again changes nothing in the vault.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from vault import audit
from vault.ingest.errors import ImportFailed, ImportResult
from vault.ingest.table import KINDS

log = logging.getLogger(__name__)

PROCESSED, FAILED = "processed", "failed"
REPORT_SUFFIX = ".report.txt"
Importer = Callable[[str, Path], Awaitable[ImportResult]]


def kind_of(name: str) -> str | None:
    """The import kind a file name says (`invoices-2026-11.csv` -> invoices), or None."""
    lowered = name.lower()
    if not lowered.endswith(".csv"):
        return None
    return next((kind for kind in KINDS if lowered.startswith(kind)), None)


@dataclass(frozen=True)
class Outcome:
    """What one look did with one file: processed, duplicate or failed."""

    name: str
    state: str
    result: ImportResult | None = None


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time of the first look that found this size and mtime


@dataclass
class FeedFolder:
    """One watched folder; `look()` is called again and again by the service."""

    root: Path
    importer: Importer  # import_csv with the service's clock, time zone and PDF issuer
    settle: float = 5.0  # seconds a file's size and mtime must stay put
    monotonic: Callable[[], float] = time.monotonic
    looks: int = 0  # how many looks are done (tests wait on it)
    _seen: dict[str, _Seen] = field(default_factory=dict)

    def prepare(self) -> None:
        for folder in (self.root, self.root / PROCESSED, self.root / FAILED):
            folder.mkdir(parents=True, exist_ok=True)

    async def look(self) -> list[Outcome]:
        """Take every settled file, in kind order; returns what was done with each."""
        now, done = self.monotonic(), []
        waiting_rank: int | None = None  # the earliest kind still settling
        files = sorted(self._candidates(), key=_order)
        names = {f.name for f in files}
        self._seen = {name: seen for name, seen in self._seen.items() if name in names}
        for path in files:
            rank = _order(path)[0]
            if waiting_rank is not None and rank > waiting_rank:
                continue
            if not self._settled(path, now):
                if rank and waiting_rank is None:  # files are in rank order
                    waiting_rank = rank
                continue
            done.append(await self._take(path))
            self._seen.pop(path.name, None)
        self.looks += 1
        return done

    def _candidates(self) -> list[Path]:
        return [path for path in self.root.iterdir()
                if not path.name.startswith(".") and not path.name.endswith(".part")
                and path.is_file()]

    def _settled(self, path: Path, now: float) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        seen = self._seen.get(path.name)
        if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            self._seen[path.name] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            return False
        return now - seen.since >= self.settle

    async def _take(self, path: Path) -> Outcome:
        kind = kind_of(path.name)
        if kind is None:
            *first, last = (f"{k}*.csv" for k in KINDS)
            names = f"{', '.join(first)} or {last}"
            return await self._fail(path, [f"{path.name}: cannot tell what the file holds "
                                           f"from its name; name it {names}"])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        keep = self.root / PROCESSED / f"{path.stem}.{digest}{path.suffix}"
        if keep.exists():
            path.replace(keep)  # the same bytes again: already imported
            log.info("feed: %s was imported before (%s); not again", path.name, keep.name)
            return Outcome(path.name, "duplicate")
        try:
            result = await self.importer(kind, path)
        except ImportFailed as exc:
            return await self._fail(path, str(exc).splitlines())
        path.replace(keep)
        log.info("feed: %s imported: %d created, %d updated, %d unchanged", path.name,
                 result.created, result.updated, result.unchanged)
        return Outcome(path.name, "processed", result)

    async def _fail(self, path: Path, problems: list[str]) -> Outcome:
        failed = self.root / FAILED / path.name
        report = failed.with_name(failed.name + REPORT_SUFFIX)
        lines = [f"{path.name} was not imported; nothing from it was written.", *problems]
        report.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.replace(failed)
        await audit.record("vault.feed.failed", file=path.name, problems=len(problems))
        log.warning("feed: %s failed (%d problems), see %s", path.name, len(problems), report)
        return Outcome(path.name, "failed")


def _order(path: Path) -> tuple[int, str]:
    """Accounts before contacts before invoices before payments; unknown names first
    (they only go to failed/)."""
    kind = kind_of(path.name)
    return (KINDS.index(kind) + 1 if kind else 0, path.name)
