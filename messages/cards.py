"""Stage cards, the sign-off card and "My tasks": rebuilt from the store on every change.

A card lists its stage's open milestones with their buttons, the finished ones in one line, and
the stage's exit criteria. Every milestone button carries the milestone's version (see
bot.core.payloads), so a click on an outdated card is recognised.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.core.domain import Act, MilestoneStatus, OnboardingStatus, Role, Stage
from bot.core.ids import Action
from bot.core.payloads import MilestoneChoice, MilestoneRef, OnboardingRef, StageRef
from bot.milestones.stages import CriterionState
from messages import blocks as b
from messages.handoff_posts import who
from store.models import Milestone, Person
from store.onboardings import OnboardingRecord

# Slack refuses messages whose blocks add up to much more than ~13k characters of JSON (whatever
# each block's own limit), so milestones with buttons are added while they fit this budget; the
# rest are listed as text.
BLOCKS_JSON_BUDGET = 11_000
MAX_BLOCKS = 50

STATUS_LABEL = {
    MilestoneStatus.NOT_STARTED: ":white_circle: Not started",
    MilestoneStatus.IN_PROGRESS: ":large_blue_circle: In progress",
    MilestoneStatus.BLOCKED: ":red_circle: Blocked",
    MilestoneStatus.AWAITING_CONFIRMATION: ":hourglass: Waiting for the customer to confirm",
    MilestoneStatus.DONE: ":white_check_mark: Done",
}


def _day(d: date) -> str:
    return f"{d:%a %d %b}"


def owners(record: OnboardingRecord, m: Milestone) -> str:
    def one(person_id: int | None, role: str | None) -> str:
        person = record.person_by_id(person_id)
        if person is not None:
            return who(person)
        return f":warning: owner needed ({(role or 'owner').replace('_', ' ')})"

    return f"{one(m.customer_owner_id, m.customer_owner_role)} · {one(m.vendor_owner_id, m.vendor_owner_role)}"


def milestone_line(record: OnboardingRecord, m: Milestone, today: date) -> str:
    status = MilestoneStatus(m.status)
    late = " · :rotating_light: overdue" if status.is_open and m.due_on < today else ""
    line = f"*{b.esc(m.title)}*\n{STATUS_LABEL[status]} · due {_day(m.due_on)}{late}\n{owners(record, m)}"
    if status is MilestoneStatus.BLOCKED and m.blocked_reason:
        line += f"\n_Blocked since {_day(m.blocked_since) if m.blocked_since else '?'}: {b.esc(m.blocked_reason)}_"
        if m.blocked_unblocker:
            line += f"\n_Who can unblock it: {b.esc(m.blocked_unblocker)}_"
    if m.client_verified and status is not MilestoneStatus.DONE:
        line += "\n_Confirmed by the customer when done._"
    return line


# What a reader may do to a milestone (bot.milestones.permissions.offers); None: show every control.
May = Callable[[Milestone, Act], bool]


def _every(m: Milestone, act: Act) -> bool:
    return True


def milestone_buttons(m: Milestone, may: May | None = None) -> list[dict[str, Any]]:
    ref = MilestoneRef(m.onboarding_id, m.id, m.version).encode()
    status = MilestoneStatus(m.status)
    may = may or _every
    start = (Act.START, b.button("Start", Action.MILESTONE_START, ref))
    done = (Act.DONE, b.button("Mark done", Action.MILESTONE_DONE, ref, style="primary"))
    block = (Act.BLOCK, b.button("Mark blocked", Action.MILESTONE_BLOCK, ref))
    offered: list[tuple[Act, dict[str, Any]]] = []
    if status is MilestoneStatus.NOT_STARTED:
        offered = [start, done, block]
    elif status is MilestoneStatus.IN_PROGRESS:
        offered = [done, block]
    elif status is MilestoneStatus.BLOCKED:
        offered = [(Act.UNBLOCK, b.button("Unblock", Action.MILESTONE_UNBLOCK, ref, style="primary"))]
    elif status is MilestoneStatus.AWAITING_CONFIRMATION:
        offered = [
            (Act.CONFIRM, b.button("Confirm", Action.MILESTONE_CONFIRM, ref, style="primary")),
            (Act.REJECT, b.button("Not yet…", Action.MILESTONE_REJECT, ref)),
        ]
    return [button for act, button in offered if may(m, act)]


def milestone_menu(m: Milestone, may: May | None = None) -> dict[str, Any] | None:
    ref = MilestoneRef(m.onboarding_id, m.id, m.version)
    may = may or _every
    options = [
        b.option(label, MilestoneChoice.of(act, ref).encode())
        for act, label in ((Act.CHANGE_DUE, "Change due date…"), (Act.REASSIGN, "Reassign…"))
        if may(m, act)
    ]
    if not options:
        return None
    return {"type": "overflow", "action_id": Action.MILESTONE_MENU, "options": options}


def milestone_blocks(
    record: OnboardingRecord, m: Milestone, today: date, may: May | None = None
) -> list[dict[str, Any]]:
    out = [
        b.section(milestone_line(record, m, today), accessory=milestone_menu(m, may), block_id=f"m.{m.id}.{m.version}")
    ]
    buttons = milestone_buttons(m, may)
    if buttons:
        out.append(b.actions(*buttons, block_id=f"a.{m.id}.{m.version}"))
    return out


def stage_card(
    record: OnboardingRecord, stage: Stage, criteria: list[CriterionState], today: date, next_stage: Stage | None
) -> list[dict[str, Any]]:
    ob = record.onboarding
    items = [m for m in record.milestones if m.stage == stage.value]
    open_items = [m for m in items if m.status != MilestoneStatus.DONE]
    done_items = [m for m in items if m.status == MilestoneStatus.DONE]
    closed = ob.status == OnboardingStatus.HANDED_OFF
    current = ob.stage == stage.value and not closed
    state = "now" if current else ("done" if closed or stage.position < Stage(ob.stage).position else "coming up")
    span = f"{_day(min(m.start_on for m in items))} – {_day(max(m.due_on for m in items))} · " if items else ""
    head: list[dict[str, Any]] = [
        b.header(f"{stage.label} · {ob.customer_name}"),
        b.context(f"{span}{len(done_items)} of {len(items)} done · {state}"),
    ]
    tail: list[dict[str, Any]] = []
    if done_items:
        tail.append(b.context(":white_check_mark: Done: " + "; ".join(b.esc(m.title) for m in done_items)))
    if criteria:
        lines = [
            f"{':white_check_mark:' if c.met else ':white_large_square:'} {b.esc(c.text)}"
            + (
                " _(waiting for the customer to confirm)_"
                if c.awaiting_customer
                else " _(confirmed by the customer)_"
                if c.client_verified
                else ""
            )
            for c in criteria
        ]
        tail.append(b.section("*To move on from this stage*\n" + "\n".join(lines)))
    controls = [b.button("My tasks", Action.MY_TASKS, OnboardingRef(ob.id).encode())]
    if current and next_stage is not None:
        controls.insert(
            0, b.button(f"Move on to {next_stage.label}", Action.STAGE_ADVANCE, StageRef(ob.id, stage).encode())
        )
    elif current and ob.status == OnboardingStatus.LIVE and all(c.met for c in criteria):
        # The last stage: once its exit criteria are met, the onboarding can be closed.
        controls.insert(
            0,
            b.button("Complete onboarding", Action.ONBOARDING_COMPLETE, OnboardingRef(ob.id).encode(), style="primary"),
        )
    elif closed and stage is Stage.ADOPTION:
        tail.append(b.context(":checkered_flag: This onboarding is complete: the account is with its ongoing CSM."))
    tail.append(b.actions(*controls, block_id=f"stage.{ob.id}.{stage.value}"))
    return fit(head, [milestone_blocks(record, m, today) for m in open_items], open_items, tail)


def _size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def fit(
    head: list[dict[str, Any]], groups: list[list[dict[str, Any]]], items: list[Milestone], tail: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Head, as many milestone groups as fit Slack's limits, a text summary of the rest, tail."""
    summary_room = 1
    out = list(head)
    used = _size(head) + _size(tail) + 1_200  # room for the summary line
    shown = 0
    for group in groups:
        size = _size(group)
        if used + size > BLOCKS_JSON_BUDGET or len(out) + len(group) + len(tail) + summary_room > MAX_BLOCKS:
            break
        out.extend(group)
        used += size
        shown += 1
    rest = items[shown:]
    if rest:
        listed = "; ".join(f"{b.esc(m.title)} (due {_day(m.due_on)})" for m in rest)
        out.append(b.section(f"…and {len(rest)} more open: {listed}", block_id="rest"))
        out.append(b.context("Use *My tasks* for the buttons on yours."))
    return out + tail


def my_tasks(record: OnboardingRecord, user_id: str, today: date, may: May | None = None) -> list[dict[str, Any]]:
    """The reader's open milestones (and those waiting on a confirmation), with only the controls they may use."""
    mine = [
        m
        for m in record.milestones
        if m.status != MilestoneStatus.DONE
        and user_id in {p.slack_user_id for p in record.people if p.id in (m.customer_owner_id, m.vendor_owner_id)}
    ]
    awaiting = [m for m in record.milestones if m.status == MilestoneStatus.AWAITING_CONFIRMATION and m not in mine]
    head = [b.section(f"*Your open milestones for {b.esc(record.onboarding.customer_name)}*")]
    if not mine:
        head.append(b.section("Nothing open with your name on it. :tada:"))
    listed = mine + awaiting
    # Whoever may name owners sees first the milestones of any stage that still lack one, with the fix.
    needs_owner = [
        m
        for m in record.milestones
        if m.status != MilestoneStatus.DONE
        and (m.customer_owner_id is None or m.vendor_owner_id is None)
        and m not in listed
        and may is not None
        and may(m, Act.REASSIGN)
    ]
    groups = []
    for i, m in enumerate(needs_owner):
        line = f"*{b.esc(m.title)}* · {Stage(m.stage).label}\n{owners(record, m)}"
        assign = b.button(
            "Assign owner", Action.MILESTONE_ASSIGN, MilestoneRef(m.onboarding_id, m.id, m.version).encode()
        )
        group = [b.section(line, accessory=assign, block_id=f"o.{m.id}.{m.version}")]
        if i == 0:
            group.insert(0, b.section("*Needs an owner*"))
        groups.append(group)
    groups += [milestone_blocks(record, m, today, may) for m in listed]
    listed = needs_owner + listed
    return fit(head, groups, listed, [])


def signoff_card(
    record: OnboardingRecord,
    sponsor_id: str | None,
    csm_id: str | None,
    waiting: list[CriterionState] | None = None,
    adoption: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The sign-off card; `waiting` are the go-live criteria still open, which keep the sign-off closed;
    `adoption`: the go-live criterion's blocks (messages.value_posts), shown once usage is reported."""
    ob = record.onboarding
    achieved = [b.esc(m.title) for m in record.milestones if m.status == MilestoneStatus.DONE]
    out = [
        b.header(f"Go-live sign-off · {ob.customer_name}"),
        b.section(
            "*What success looks like, in your words*\n"
            + (b.esc(ob.success_criteria) if ob.success_criteria else "_not recorded_")
        ),
        b.section(
            "*What we achieved together*\n"
            + ("\n".join(f"• {t}" for t in achieved[:25]) or "_nothing marked done yet_")
            + (f"\n…and {len(achieved) - 25} more" if len(achieved) > 25 else "")
        ),
    ]
    sponsor = b.mention(sponsor_id) if sponsor_id else "the executive sponsor"
    if ob.sponsor_signed_at:
        out.append(
            b.section(
                f":white_check_mark: Signed off by {b.mention(ob.sponsor_signed_by or '')} "
                f"on {ob.sponsor_signed_at:%d %b %Y}"
            )
        )
    elif waiting:
        lines = "\n".join(f":white_large_square: {b.esc(c.text)}" for c in waiting)
        out.append(b.section(f"*Sign-off opens once this is done*\n{lines}"))
        out.append(b.context(f"{sponsor} signs off here then; the stage card has the milestones' buttons."))
    else:
        out.append(b.section(f"{sponsor}, when you agree we're live, please sign off here."))
    if ob.csm_countersigned_at:
        out.append(
            b.section(
                f":white_check_mark: Countersigned by {b.mention(ob.csm_countersigned_by or '')} "
                f"on {ob.csm_countersigned_at:%d %b %Y}"
            )
        )
    if ob.review_30d_on:
        out.append(b.context(f"30-day review: {_day(ob.review_30d_on)}"))
    out.extend(adoption or [])
    buttons = []
    if not ob.sponsor_signed_at:
        if not waiting:  # nothing to press for anyone until the stage's other criteria are met
            buttons.append(
                b.button("Sign off go-live", Action.SIGNOFF_SPONSOR, OnboardingRef(ob.id).encode(), style="primary")
            )
    elif not ob.csm_countersigned_at:
        who_csm = b.mention(csm_id) if csm_id else "The CSM"
        out.append(b.context(f"{who_csm} countersigns next."))
        buttons.append(b.button("Countersign", Action.SIGNOFF_CSM, OnboardingRef(ob.id).encode(), style="primary"))
    if buttons:
        out.append(b.actions(*buttons, block_id=f"signoff.{ob.id}.{ob.version}"))
    return out


def stage_card_text(record: OnboardingRecord, stage: Stage) -> str:
    """The stage card's notification text (mrkdwn, like its blocks)."""
    return f"{stage.label} · {b.esc(record.onboarding.customer_name)}"


def signoff_card_text(record: OnboardingRecord) -> str:
    """The sign-off card's notification text."""
    return f"Go-live sign-off · {b.esc(record.onboarding.customer_name)}"


def stage_summary(record: OnboardingRecord, finished: Stage, started: Stage) -> str:
    items = [m for m in record.milestones if m.stage == started.value]
    due = max((m.due_on for m in items), default=None)
    done = sum(1 for m in record.milestones if m.stage == finished.value and m.status == MilestoneStatus.DONE)
    text = f":tada: *{finished.label}* is complete ({done} milestones done). On to *{started.label}*"
    return text + (f": {len(items)} milestones, due by {due:%a %d %b}." if due else ".")


def completed_summary(record: OnboardingRecord) -> str:
    ongoing = record.person(Role.ONGOING_CSM)
    to = f" {who(ongoing)} is your CSM from here on." if ongoing else ""
    return (
        f":checkered_flag: *{b.esc(record.onboarding.customer_name)}*'s onboarding is complete: every stage is done "
        f"and the account has been handed over.{to} Thank you all."
    )


def ask_to_confirm(person: Person, m: Milestone) -> str:
    return (
        f"{who(person)}, could you confirm *{b.esc(m.title)}* is done? Use *Confirm* on the card, "
        "or *Not yet…* if something is still missing."
    )
