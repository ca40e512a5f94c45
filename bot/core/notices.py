"""What the rules decide must be said, before it becomes an outbox row.

A rule run at a given "now" yields `Notice`s; the outbox claims each by its dedupe key (one row per
key, ever), and the deliverer turns rows into Slack posts: urgent ones on their own, the rest
bundled into one digest per recipient per day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Audience(StrEnum):
    SHARED = "shared"  # the channel shared with the customer: words fit for the customer only
    INTERNAL = "internal"  # the vendor's internal channel for this customer
    DM = "dm"  # a direct message to one vendor-side person
    # A direct message to one customer-side person: words fit for the customer only, and no controls
    # (a customer's click from a direct message is not taken); links to the cards in the shared channel.
    CUSTOMER_DM = "customer"


class Rule(StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    BLOCKED = "blocked"
    BEHIND_SCHEDULE = "behind_schedule"
    SILENT_ACCOUNT = "silent_account"
    KICKOFF_RECAP_MISSING = "kickoff_recap_missing"
    HEALTH_DROP = "health_drop"
    WEEKLY_OVERVIEW = "weekly_overview"
    # Not the scheduler's: the CSM asks for it from the sign-off note, and it goes out at once.
    SIGNOFF_REMINDER = "signoff_reminder"
    # After the handoff, to the ongoing CSM (bot.automation.rules.cadence).
    CHECK_IN = "check_in"
    BUSINESS_REVIEW = "business_review"
    RENEWAL = "renewal"
    RENEWAL_RISK = "renewal_risk"
    # After go-live, against the adoption cliff (bot.automation.rules.after_go_live).
    POST_GO_LIVE_CHECK_IN = "post_go_live_check_in"
    VALUE_REPORT = "value_report"
    SUCCESS_STORY = "success_story"
    EXPANSION_CONVERSATION = "expansion_conversation"
    FIRST_BUSINESS_REVIEW = "first_business_review"
    EXPANSION_READINESS = "expansion_readiness"
    EXECUTIVE_SUMMARY = "executive_summary"
    VALUE_PLAY = "value_play"
    # To each CSM manager, about every onboarding of their team at once (bot.automation.rules.portfolio_digest).
    PORTFOLIO_DIGEST = "portfolio_digest"


# The rule of the deliverer's own notice: "I couldn't post to that channel".
DELIVERY_FAILED = "delivery_failed"


# What a person may snooze from a post: reasons that nag, never an escalation (which climbs until
# someone says "I'm on it") nor the weekly overview.
SNOOZABLE: frozenset[str] = frozenset(
    {
        Rule.DUE_SOON,
        Rule.OVERDUE,
        Rule.SILENT_ACCOUNT,
        Rule.KICKOFF_RECAP_MISSING,
        Rule.BEHIND_SCHEDULE,
        Rule.HEALTH_DROP,
    }
)
# Of those, the ones about one milestone, which its customer-side owner may snooze too.
MILESTONE_SNOOZES: frozenset[str] = frozenset({Rule.DUE_SOON, Rule.OVERDUE, Rule.KICKOFF_RECAP_MISSING})


@dataclass(frozen=True)
class Notice:
    rule: Rule
    onboarding_id: int
    subject: str  # a milestone key, or "" when it concerns the whole onboarding
    period: str  # the window in which it is said at most once: "2026-05-04", "2026-W19", ...
    audience: Audience
    recipient: str  # the Slack user who is to hear it (for channel posts: the channel id)
    channel_id: str | None  # where it is posted; None for a DM (opened at send time)
    not_before: datetime  # the first moment it may go out (the customer's business hours)
    urgent: bool = False
    why: str = ""  # one line, for --dry-run and the audit trail
    facts: dict[str, Any] = field(default_factory=dict)  # what the message builder needs
    # The recipient's own timezone, for a notice about a whole team (a manager's portfolio digest, filed
    # under one of its onboardings); None: the onboarding's timezone is the recipient's day.
    zone: str | None = None
    # said at most once, ever: the outbox's unique key (made once here, read several times per sweep)
    dedupe_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = dedupe_key(self.onboarding_id, self.rule, self.subject, self.recipient, self.period)
        object.__setattr__(self, "dedupe_key", key)


def dedupe_key(onboarding_id: int, rule: Rule, subject: str, recipient: str, period: str) -> str:
    """The outbox key of one thing said: the same reason, to the same person, in the same period."""
    return f"{onboarding_id}:{rule}:{subject}:{recipient}:{period}"
