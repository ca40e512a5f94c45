"""The onboarding vocabulary: sides, roles, stages, tracks, statuses and tiers.

Every other module names these through the enums here, so a stored value, a playbook file and a
button can never disagree on spelling. Values are what the store and the playbook files hold.
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum


class Side(StrEnum):
    VENDOR = "vendor"
    CUSTOMER = "customer"


class Role(StrEnum):
    # vendor side
    ACCOUNT_EXECUTIVE = "account_executive"
    IMPLEMENTATION_CSM = "implementation_csm"
    TECHNICAL_LEAD = "technical_lead"
    CSM_MANAGER = "csm_manager"
    ESCALATION_CONTACT = "escalation_contact"
    ONGOING_CSM = "ongoing_csm"
    # customer side
    ECONOMIC_BUYER = "economic_buyer"
    EXECUTIVE_SPONSOR = "executive_sponsor"
    CHAMPION = "champion"
    PROJECT_OWNER = "project_owner"
    DAY_TO_DAY_OWNER = "day_to_day_owner"
    IT_CONTACT = "it_contact"
    END_USER = "end_user"

    @property
    def side(self) -> Side:
        return Side.VENDOR if self in VENDOR_ROLES else Side.CUSTOMER

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


VENDOR_ROLES = frozenset(
    {
        Role.ACCOUNT_EXECUTIVE,
        Role.IMPLEMENTATION_CSM,
        Role.TECHNICAL_LEAD,
        Role.CSM_MANAGER,
        Role.ESCALATION_CONTACT,
        Role.ONGOING_CSM,
    }
)

ROLE_LABELS = {
    Role.ACCOUNT_EXECUTIVE: "Account executive",
    Role.IMPLEMENTATION_CSM: "Implementation CSM",
    Role.TECHNICAL_LEAD: "Technical lead",
    Role.CSM_MANAGER: "CSM manager",
    Role.ESCALATION_CONTACT: "Escalation contact",
    Role.ONGOING_CSM: "Ongoing CSM",
    Role.ECONOMIC_BUYER: "Economic buyer",
    Role.EXECUTIVE_SPONSOR: "Executive sponsor",
    Role.CHAMPION: "Champion",
    Role.PROJECT_OWNER: "Project owner",
    Role.DAY_TO_DAY_OWNER: "Day-to-day owner",
    Role.IT_CONTACT: "IT / security contact",
    Role.END_USER: "End user",
}


class Stage(StrEnum):
    """The onboarding stages, in order."""

    PRE_KICKOFF = "pre_kickoff"
    KICKOFF = "kickoff"
    SETUP = "setup"
    TRAINING = "training"
    GO_LIVE = "go_live"
    ADOPTION = "adoption"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()

    @property
    def position(self) -> int:
        return STAGE_ORDER.index(self)


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class Track(StrEnum):
    """Tracks run in parallel, not in sequence."""

    BUSINESS = "business"
    IT = "it"
    ENABLEMENT = "enablement"
    PILOT = "pilot"


class MilestoneStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    DONE = "done"

    @property
    def is_open(self) -> bool:
        return self is not MilestoneStatus.DONE


class Act(StrEnum):
    """What a person can do: to a milestone, and to the onboarding and the bot's posts."""

    START = "start"
    DONE = "done"
    BLOCK = "block"
    UNBLOCK = "unblock"
    CONFIRM = "confirm"
    REJECT = "reject"
    CHANGE_DUE = "change_due"
    REASSIGN = "reassign"
    ADD_MILESTONE = "add_milestone"
    ADVANCE_STAGE = "advance_stage"
    COMPLETE = "complete"  # close the onboarding once the adoption stage is done
    SIGN_OFF = "sign_off"
    COUNTERSIGN = "countersign"
    OVERRIDE_GATE = "override_gate"
    SNOOZE = "snooze"
    PICK_UP = "pick_up"
    MY_TASKS = "my_tasks"
    REPOST_SETUP = "repost_setup"
    RATE = "rate"  # the customer's rating of a finished stage
    REMIND_PUBLICLY = "remind_publicly"  # post a reminder in the shared channel (the sign-off's)
    HAND_OVER = "hand_over"  # write the handoff to the ongoing CSM
    ACCEPT_HANDOFF = "accept_handoff"  # then: only the ongoing CSM it names


class StageStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"


class OnboardingStatus(StrEnum):
    ACTIVE = "active"
    LIVE = "live"
    HANDED_OFF = "handed_off"
    CANCELLED = "cancelled"


class Tier(IntEnum):
    """Service level, right-sized to the annual contract value."""

    SELF_SERVE = 0
    LIGHT_TOUCH = 1
    STANDARD = 2
    ENTERPRISE = 3

    @property
    def label(self) -> str:
        return TIER_LABELS[self]


TIER_LABELS = {
    Tier.SELF_SERVE: "Level 0 · self-serve",
    Tier.LIGHT_TOUCH: "Level 1 · light-touch",
    Tier.STANDARD: "Level 2 · standard high-touch",
    Tier.ENTERPRISE: "Level 3 · white-glove enterprise",
}

# Lower ACV bound (USD, inclusive) of each tier; defaults from the field's usual bands.
TIER_ACV_FLOORS: tuple[tuple[Decimal, Tier], ...] = (
    (Decimal(50_000), Tier.ENTERPRISE),
    (Decimal(5_000), Tier.STANDARD),
    (Decimal(1_000), Tier.LIGHT_TOUCH),
    (Decimal(0), Tier.SELF_SERVE),
)

# Accounts one CSM can carry at each tier (the upper end of the usual ratio).
TIER_ACCOUNT_RATIO = {
    Tier.SELF_SERVE: None,
    Tier.LIGHT_TOUCH: None,
    Tier.STANDARD: 50,
    Tier.ENTERPRISE: 15,
}


def tier_for_acv(acv: Decimal) -> Tier:
    for floor, tier in TIER_ACV_FLOORS:
        if acv >= floor:
            return tier
    raise ValueError("ACV must not be negative")


class ITDependency(StrEnum):
    """IT work that can gate go-live; a playbook gives each a typical duration."""

    SSO = "sso"
    CRM_INTEGRATION = "crm_integration"
    DATA_MIGRATION = "data_migration"
    SECURITY_REVIEW = "security_review"

    @property
    def label(self) -> str:
        return IT_DEPENDENCY_LABELS[self]


IT_DEPENDENCY_LABELS = {
    ITDependency.SSO: "SSO / SAML",
    ITDependency.CRM_INTEGRATION: "CRM integration",
    ITDependency.DATA_MIGRATION: "Data migration",
    ITDependency.SECURITY_REVIEW: "Security review",
}
