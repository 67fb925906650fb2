"""When the account page asks for a code before documents leave (access.step_up)."""

from __future__ import annotations

from enum import StrEnum


class StepUp(StrEnum):
    NEVER = "never"  # the signed link and session are enough
    DOWNLOADS = "downloads"  # a code before the first document of a session
    SESSION = "session"  # a code before any page of a session

    @property
    def rank(self) -> int:
        return list(StepUp).index(self)
