"""Every action_id, callback_id and block_id the bot uses, in one place.

A button and its handler both name the enum member, so they cannot drift apart. Values are
namespaced (`handoff.…`, `gate.…`) so they stay unique across views and messages.
"""

from __future__ import annotations

from enum import StrEnum


class View(StrEnum):
    HANDOFF_BASICS = "handoff.basics"
    HANDOFF_TEAM = "handoff.team"
    HANDOFF_CUSTOMER = "handoff.customer"
    HANDOFF_STORY = "handoff.story"
    HANDOFF_RESULT = "handoff.result"
    GATE_OVERRIDE = "gate.override"
    MILESTONE_BLOCK = "ms.block"
    MILESTONE_REJECT = "ms.reject"
    MILESTONE_DUE = "ms.due"
    MILESTONE_REASSIGN = "ms.reassign"
    MILESTONE_ADD = "ms.add"
    REPORT_EDIT = "report.edit"  # the value report's own words, edited before posting
    RATING_COMMENT = "voice.comment"
    ONGOING_HANDOFF = "ongoing.handoff"
    TEAM_ALL = "home.team_all"  # every onboarding of a team, worst first, a page at a time


class Action(StrEnum):
    GATE_OVERRIDE = "gate.override"
    # On a milestone (stage cards, "My tasks", nudges); the value is a MilestoneRef.
    MILESTONE_START = "ms.start"
    MILESTONE_DONE = "ms.done"
    MILESTONE_BLOCK = "ms.block"
    MILESTONE_UNBLOCK = "ms.unblock"
    MILESTONE_MENU = "ms.menu"  # overflow: change due date, reassign
    MILESTONE_CONFIRM = "ms.confirm"
    MILESTONE_REJECT = "ms.reject"
    MILESTONE_ASSIGN = "ms.assign"  # "Assign owner": the reassign form, from a refusal or My tasks
    # The same without a form, for when Slack won't open a modal for someone: "act|ref|reason".
    # Several sit in one block, so each button's action_id is this plus "." and the reason.
    MILESTONE_QUICK = "ms.quick"
    # On the plan overview and stage cards; the value is the onboarding id.
    MY_TASKS = "plan.my_tasks"
    STAGE_ADVANCE = "stage.advance"
    SIGNOFF_SPONSOR = "signoff.sponsor"
    SIGNOFF_CSM = "signoff.csm"
    ONBOARDING_COMPLETE = "stage.complete"  # on the adoption card, once its exit criteria are met
    # On nudges and escalations.
    NUDGE_SNOOZE = "nudge.snooze"  # static_select: 1 day, 3 days, or a date
    NUDGE_SNOOZE_UNTIL = "nudge.snooze_until"  # datepicker
    ESCALATION_ACK = "escalation.ack"  # "I'm on it"
    SIGNOFF_REMIND = "signoff.remind"  # the CSM posts a sign-off reminder in the shared channel
    # App Home
    OPEN_CARD = "home.open_card"
    # The team's numbers: "Show all" opens every onboarding worst first, paged; the value is a TeamPage.
    # The page buttons sit in one block, so each one's action_id is this plus ".previous" or ".next".
    TEAM_ALL = "home.team_all"
    TEAM_PAGE = "home.team_page"
    # /onboard status, when some of the setup posts never reached Slack; the value is the onboarding id.
    SETUP_REPOST = "setup.repost"
    # The value report's preview (/onboard report); the value is the onboarding id.
    REPORT_POST = "report.post"
    REPORT_EDIT = "report.edit"
    # The post-go-live reminder that the first value report is due: opens the preview; the value is the onboarding id.
    REPORT_PREVIEW = "report.preview"
    # The rating card of a finished stage: one button per score (this plus "." and the score), and a comment.
    RATE = "voice.rate"
    RATE_COMMENT = "voice.comment"
    # The written handoff in the internal channel: the ongoing CSM accepts it; the value is the onboarding id.
    ONGOING_ACCEPT = "ongoing.accept"


class Field(StrEnum):
    """Input blocks; each holds one element whose action_id equals the block_id."""

    CUSTOMER_NAME = "customer_name"
    ACV = "acv"
    TIER = "tier"
    PLAYBOOK = "playbook"
    CONTRACT_SIGNED = "contract_signed"
    TARGET_GO_LIVE = "target_go_live"
    TIMEZONE = "timezone"
    IT_DEPENDENCIES = "it_dependencies"
    IT_OTHER = "it_other"
    ACCOUNT_ID = "account_id"  # the customer's account in the product (usage reports)

    SHARED_CHANNEL = "shared_channel"
    INTERNAL_CHANNEL = "internal_channel"
    CSM = "implementation_csm"
    AE = "account_executive"
    TECH_LEAD = "technical_lead"
    MANAGER = "csm_manager"
    ESCALATION_CONTACT = "escalation_contact"
    ONGOING_CSM = "ongoing_csm"

    PROJECT_OWNER_FITNESS = "project_owner_fitness"

    SOLD = "sold"
    COMMITMENTS = "commitments"
    SUCCESS_CRITERIA = "success_criteria"
    FIRST_VALUE = "first_value_definition"
    FULL_VALUE = "full_value_definition"
    CONCERNS = "concerns"
    POLITICAL_DYNAMICS = "political_dynamics"

    OVERRIDE_REASON = "override_reason"

    BLOCKED_WHAT = "blocked_what"
    BLOCKED_WHO = "blocked_who"
    BLOCKED_SINCE = "blocked_since"
    REJECT_REASON = "reject_reason"
    NEW_DUE = "new_due"
    DUE_REASON = "due_reason"
    CUSTOMER_OWNER = "customer_owner"
    VENDOR_OWNER = "vendor_owner"
    MILESTONE_TITLE = "milestone_title"
    MILESTONE_STAGE = "milestone_stage"
    MILESTONE_TRACK = "milestone_track"
    MILESTONE_START = "milestone_start"
    MILESTONE_DUE = "milestone_due"
    MILESTONE_CLIENT_VERIFIED = "milestone_client_verified"
    ONBOARDING = "onboarding"
    REPORT_TEXT = "report_text"
    RATING_SCORE = "rating_score"
    RATING_COMMENT = "rating_comment"
    HANDOFF_MEETING_DAY = "handoff_meeting_day"
    HANDOFF_MEETING_TIME = "handoff_meeting_time"
    RENEWAL_ON = "renewal_on"
    EXPANSION = "expansion"
    WRITTEN_HANDOFF = "written_handoff"


def person_field(role: str, part: str) -> str:
    """Block id of one part (user, name, email) of a customer person's entry."""
    return f"person.{role}.{part}"
