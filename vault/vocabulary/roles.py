"""Contact roles, ranked: a role may do everything a lower one may."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AP = "ap"
    APPROVER = "approver"
    MANAGER = "manager"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def of(cls, value: str) -> Role:
        """A stored or imported role; anything unknown counts as the least privileged."""
        try:
            return cls(value)
        except ValueError:
            return cls.AP

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.AP: 0, Role.APPROVER: 1, Role.MANAGER: 2}
_LABELS = {Role.AP: "AP", Role.APPROVER: "approver", Role.MANAGER: "manager"}
