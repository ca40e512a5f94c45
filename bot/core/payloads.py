"""Small typed state carried in button values and modal private_metadata, and parsed back.

A milestone button carries the milestone's version as the card showed it, so a click on a card
older than the store is recognised and refused rather than applied.
"""

from __future__ import annotations

from dataclasses import dataclass


class BadPayload(ValueError):
    pass


@dataclass(frozen=True)
class MilestoneRef:
    onboarding_id: int
    milestone_id: int
    version: int

    def encode(self) -> str:
        return f"m:{self.onboarding_id}:{self.milestone_id}:{self.version}"

    @classmethod
    def decode(cls, raw: str | None) -> MilestoneRef:
        parts = (raw or "").split(":")
        if len(parts) != 4 or parts[0] != "m" or not all(p.isdigit() for p in parts[1:]):
            raise BadPayload(f"not a milestone reference: {raw!r}")
        return cls(int(parts[1]), int(parts[2]), int(parts[3]))


@dataclass(frozen=True)
class NoticeRef:
    """A reason to speak (for Snooze and "I'm on it"): onboarding, rule and subject."""

    onboarding_id: int
    rule: str
    subject: str

    def encode(self) -> str:
        return f"n:{self.onboarding_id}:{self.rule}:{self.subject}"

    @classmethod
    def decode(cls, raw: str | None) -> NoticeRef:
        parts = (raw or "").split(":", 3)
        if len(parts) != 4 or parts[0] != "n" or not parts[1].isdigit() or not parts[2]:
            raise BadPayload(f"not a notice reference: {raw!r}")
        return cls(int(parts[1]), parts[2], parts[3])
