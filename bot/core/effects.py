"""What a change did, in words the Slack side can show once the change is committed.

Domain operations never call Slack: they return an `Outcome`, whose `changed` names the cards to
rebuild, the history lines for their threads, the person to ask for a confirmation and the stage
that moved. `bot.slack.publish.publish` turns it into posts and edits, after the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from bot.core.domain import Stage


class CardKind(StrEnum):
    """The messages the bot keeps current in place."""

    STAGE = "stage"  # one per stage, in the shared channel (subject: the stage key)
    OVERVIEW = "overview"  # the pinned plan overview, in the shared channel
    SIGNOFF = "signoff"  # the go-live sign-off, in the shared channel
    HANDOFF = "handoff"  # the full handoff, in the internal channel
    WELCOME = "welcome"  # the welcome, in the shared channel (posted once, never edited)
    RATING = "rating"  # "how did it go?" for a finished stage, in the shared channel (subject: the stage key)


class Event(StrEnum):
    STARTED = "started"
    DONE = "done"
    DONE_BY_PRODUCT = "done_by_product"  # a key event the product reported completed it (detail: the event)
    AWAITING = "awaiting"  # marked done; waits for the customer's confirmation
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    DUE_CHANGED = "due_changed"
    REASSIGNED = "reassigned"
    ADDED = "added"
    STAGE_ADVANCED = "stage_advanced"
    SPONSOR_SIGNED = "sponsor_signed"
    CSM_COUNTERSIGNED = "csm_countersigned"
    GATE_OVERRIDDEN = "gate_overridden"
    COMPLETED = "completed"  # the adoption stage is done: the onboarding is closed


@dataclass(frozen=True)
class History:
    """One line of a card's thread. `title`, `detail` and `names` are as people typed them."""

    event: Event
    actor: str  # the Slack user id of who did it
    title: str = ""  # the milestone's title
    detail: str = ""  # the reason given
    before: date | None = None
    after: date | None = None
    stage: Stage | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    kind: CardKind
    subject: str
    history: History


@dataclass(frozen=True)
class Ask:
    """Ask a customer-side person, in the stage card's thread, to confirm a milestone."""

    stage: str
    milestone_id: int
    person_id: int


@dataclass
class Changed:
    onboarding_id: int
    stages: set[str] = field(default_factory=set)  # stage cards to rebuild (the overview and sign-off always are)
    lines: list[Line] = field(default_factory=list)
    ask: Ask | None = None
    moved: tuple[Stage, Stage] | None = None  # (finished, started)
    handoff: bool = False  # rebuild the internal handoff post
    completed: bool = False  # the onboarding was just closed: say so in the shared channel
    rated: Stage | None = None  # rebuild this stage's rating card
    low_rating: LowRating | None = None  # tell the CSM, internally, at once
    # The onboarding as it stands once the change is committed (a store.onboardings.OnboardingRecord
    # read under its lock), when the change has it at hand; None: publishing reads it.
    state: Any = None


class Need(StrEnum):
    """What a milestone that holds its stage back needs before the stage can move on."""

    CUSTOMER_OWNER = "customer_owner"  # nobody on the customer's side owns it
    VENDOR_OWNER = "vendor_owner"  # nobody on the vendor's side owns it
    DONE = "done"
    UNBLOCK = "unblock"  # it is blocked
    CONFIRMATION = "confirmation"  # marked done; waits for its customer-side owner to confirm
    SIGN_OFF = "sign_off"  # the go-live milestone: done by the sponsor's sign-off and the CSM's countersignature


@dataclass(frozen=True)
class Hold:
    """One milestone that keeps a stage from moving on, and what it needs (several things at times)."""

    onboarding_id: int
    milestone_id: int
    version: int
    title: str  # as people typed it
    stage: Stage
    needs: tuple[Need, ...]
    customer_role: str | None = None  # the roles its owners are meant to hold
    vendor_role: str | None = None


@dataclass(frozen=True)
class LowRating:
    """A customer-side person rated a stage low (or commented on a low rating they gave)."""

    rating_id: int
    stage: Stage
    user_id: str
    score: int
    comment: str  # as typed
    before: int | None = None  # their score before, when they changed it


class Kind(StrEnum):
    APPLIED = "applied"
    REFUSED = "refused"
    STALE = "stale"  # the person acted on something that changed meanwhile: nothing applied
    MISSING = "missing"


@dataclass
class Outcome:
    kind: Kind
    message: str = ""  # for the person who acted, when it was not applied (or to confirm what was)
    changed: Changed | None = None  # what to publish; a stale click still refreshes the cards
    holds: list[Hold] = field(default_factory=list)  # a refused stage move: the milestones holding it

    @classmethod
    def refused(cls, message: str) -> Outcome:
        return cls(Kind.REFUSED, message)


GONE = "This onboarding or milestone no longer exists. It may have been removed; nothing was changed."
