"""One active onboarding as the rules see it: its rows, its local time, who is who, and where to say things."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.automation.health import Signals
from bot.automation.rules.local_time import LocalTime
from bot.core.domain import Role
from bot.core.notices import Audience, Notice, Rule, dedupe_key
from bot.planning.settings import RuleSettings

Route = tuple[Audience, str, str | None]  # audience, recipient, channel id
IMPLEMENTATION_CSM, ONGOING_CSM = Role.IMPLEMENTATION_CSM.value, Role.ONGOING_CSM.value
SHARED, INTERNAL, DM, CUSTOMER_DM = Audience.SHARED, Audience.INTERNAL, Audience.DM, Audience.CUSTOMER_DM


@dataclass(slots=True)
class OpenEscalation:
    id: int
    rule: str
    subject: str
    opened_on: date
    level: int
    level_raised_at: datetime
    acknowledged_at: datetime | None


@dataclass(eq=False, slots=True)
class Account:
    onboarding: Any  # a row of onboardings columns
    settings: RuleSettings
    local: LocalTime  # the customer's view of now
    people: dict[int, Any] = field(default_factory=dict)
    shown: dict[int, str] = field(default_factory=dict)  # person id -> "<@U123>" or their name
    roles: dict[str, Any] = field(default_factory=dict)  # role -> the first person named for it
    milestones: list[Any] = field(default_factory=list)  # the candidate milestone rows
    blocked: dict[str, Any] = field(default_factory=dict)  # key -> the blocked ones among them
    signals: Signals = field(default_factory=Signals)
    escalations: dict[tuple[str, str], OpenEscalation] = field(default_factory=dict)
    snoozes: dict[tuple[str, str], datetime] = field(default_factory=dict)
    kickoff: dict[str, Any] = field(default_factory=dict)  # key -> row of the recap's dependencies
    previous_health: tuple[int, dict[str, Any]] | None = None  # (score, parts) of the comparison day
    health_today: tuple[int, dict[str, Any]] | None = None  # as already stored for today
    cards: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (kind, subject) -> (channel, ts)
    handed_over: bool = False  # the handoff to the ongoing CSM is written: they are "the CSM" now

    def person(self, role: str) -> Any:
        """The first person named for `role`; once handed over, the ongoing CSM stands for the CSM."""
        if self.handed_over and role == IMPLEMENTATION_CSM:
            ongoing = self.roles.get(ONGOING_CSM)
            if ongoing is not None:
                return ongoing
        return self.roles.get(role)

    @property
    def id(self) -> int:
        return self.onboarding.id

    def owner(self, person_id: int | None) -> Any:
        return self.people.get(person_id) if person_id is not None else None

    def show_role(self, role: str) -> str:
        """How the person holding `role` is shown ("<@U123>" or their name), "" for nobody."""
        p = self.person(role)
        return self.shown[p.id] if p is not None else ""

    def snoozed(self, rule: Rule, subject: str, milestone: Any = None) -> bool:
        """A snooze on this reason, on the whole rule (subject ""), or on the milestone itself."""
        now = self.local.now
        if milestone is not None and milestone.snoozed:
            return True
        if self.snoozes:
            for key in ((rule, subject), (rule, "")):
                until = self.snoozes.get(key)
                if until is not None and until > now:
                    return True
        return False

    def card(self, kind: str, subject: str = "") -> dict[str, str]:
        """The facts that link to one of this onboarding's cards ({} when it was never posted)."""
        found = self.cards.get((kind, subject))
        return {"card_channel": found[0], "card_ts": found[1]} if found else {}

    # where to say it
    def shared(self) -> Route | None:
        channel = self.onboarding.shared_channel_id
        return (SHARED, channel, channel) if channel else None

    def internal(self) -> Route | None:
        channel = self.onboarding.internal_channel_id
        return (INTERNAL, channel, channel) if channel else None

    @staticmethod
    def in_slack(*people: Any) -> Any:
        """The first of `people` who is in Slack, else the first named one."""
        first = None
        for p in people:
            if p is not None:
                if p.slack_user_id:
                    return p
                first = first or p
        return first

    def dm(self, person: Any) -> Route | None:
        """A DM to `person` when they are in Slack, else the internal channel (naming them)."""
        if person is not None and person.slack_user_id:
            return (DM, person.slack_user_id, None)
        return self.internal()

    def customer_dm(self, person: Any) -> Route | None:
        """A direct message to a customer-side person in Slack (words fit for the customer); None otherwise."""
        if person is not None and person.slack_user_id and person.side == "customer":
            return (CUSTOMER_DM, person.slack_user_id, None)
        return None

    def notice(
        self, rule: Rule, subject: str, period: str, route: Route, facts: dict[str, Any], why: str, urgent: bool = False
    ) -> Notice:
        audience, recipient, channel = route
        onboarding_id = self.onboarding.id
        made = object.__new__(Notice)
        # Setting the frozen dataclass's __dict__ at once skips its __init__'s per-field
        # object.__setattr__ calls, which showed high in a sweep's profile (about ten notices per
        # onboarding). tests/test_rules.py checks the result equals Notice(...) field for field.
        object.__setattr__(made, "__dict__", {
            "rule": rule, "onboarding_id": onboarding_id, "subject": subject, "period": period,
            "audience": audience, "recipient": recipient, "channel_id": channel, "not_before": self.local.opens,
            "urgent": urgent, "why": why, "facts": facts,
            "zone": None, "dedupe_key": dedupe_key(onboarding_id, rule, subject, recipient, period),
        })  # fmt: skip
        return made
