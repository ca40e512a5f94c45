"""What the handoff posts: the full record for the vendor's internal channel, and a welcome with
the plan overview for the channel shared with the customer.

The shared-channel builders take only customer-visible fields; internal text (concerns, political
dynamics, the gate's verdict) is never passed to them.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from bot.core.domain import IT_DEPENDENCY_LABELS, ROLE_LABELS, ITDependency, Role, Side, Stage, Tier
from bot.core.ids import Action, Field, View
from bot.core.money import format_usd
from bot.core.payloads import OnboardingRef
from bot.onboarding.gate import REASON_MAX, REASON_MIN
from bot.onboarding.readiness import Readiness
from bot.planning.timeline import Feasibility
from messages import blocks as b
from store.models import Person
from store.onboardings import OnboardingRecord

# Slack rejects messages whose blocks add up to much more than this, whatever each block's limit.
MESSAGE_TEXT_BUDGET = 10_000


def who(person: Person | None) -> str:
    """A person as mrkdwn: a mention when the bot stored their Slack user id, else their name, escaped."""
    if person is None:
        return "_not named yet_"
    return b.mention(person.slack_user_id) if person.slack_user_id else b.esc(person.name)


def _day(d) -> str:
    return f"{d:%a %d %b}"


def pack(sections: list[dict[str, Any]], budget: int = MESSAGE_TEXT_BUDGET) -> list[list[dict[str, Any]]]:
    """Split blocks into messages that each stay within Slack's total size and 50 blocks."""
    messages: list[list[dict[str, Any]]] = [[]]
    used = 0
    for block in sections:
        size = len(str(block))
        if messages[-1] and (used + size > budget or len(messages[-1]) >= 50):
            messages.append([])
            used = 0
        messages[-1].append(block)
        used += size
    return [m for m in messages if m]


# --- internal channel -------------------------------------------------------------------------


def internal_summary(
    record: OnboardingRecord, readiness: Readiness, feasibility: Feasibility, *, overridden_by: str | None = None
) -> list[dict[str, Any]]:
    ob = record.onboarding
    vendor = [p for p in record.people if p.side == Side.VENDOR]
    customer = [p for p in record.people if p.side == Side.CUSTOMER]
    out = [
        b.header(f"Handoff: {ob.customer_name}"),
        b.section(
            f"*{Tier(ob.tier).label}* · {format_usd(Decimal(ob.acv_cents) / 100)} ACV · "
            f"plan `{ob.playbook_key}`\n"
            f"Signed {_day(ob.contract_signed_on)} · go-live agreed for {_day(ob.target_go_live_on)} "
            f"· timezone {ob.timezone}\n"
            f"Shared channel <#{ob.shared_channel_id}>"
        ),
        b.section("*Our team*\n" + "\n".join(f"{ROLE_LABELS[Role(p.role)]}: {who(p)}" for p in vendor)),
        b.section(
            "*Their people*\n"
            + "\n".join(
                f"{ROLE_LABELS[Role(p.role)]}: {who(p)}" + (f" ({b.esc(p.email)})" if p.email else "") for p in customer
            )
        ),
    ]
    if ob.it_dependencies:
        out.append(b.section("*IT work in scope*: " + ", ".join(_it_label(d) for d in ob.it_dependencies)))
    timeline = "*Timeline*: " if feasibility.feasible else ":warning: *Timeline*: "
    out.append(b.section(timeline + b.esc(feasibility.reason)))
    out.extend(gate_blocks(ob.id, readiness, overridden_by=overridden_by))
    return out


def _it_label(key: str) -> str:
    return IT_DEPENDENCY_LABELS[ITDependency(key)] if key in ITDependency._value2member_map_ else b.esc(key)


def gate_blocks(onboarding_id: int, readiness: Readiness, *, overridden_by: str | None = None) -> list[dict[str, Any]]:
    if readiness.ready:
        checks = "\n".join(b.esc(c.text) for c in readiness.checks)
        return [b.section(f":white_check_mark: *Ready for kickoff.*\n{checks}")]
    lines = "\n".join(f"• {b.esc(c.text)}" for c in readiness.missing)
    if overridden_by:
        return [
            b.section(
                f":large_orange_circle: *Not ready for kickoff*, overridden by {b.mention(overridden_by)}.\n{lines}"
            )
        ]
    return [
        b.section(f":no_entry: *Not ready for kickoff yet.*\n{lines}"),
        b.actions(
            b.button(
                "Override the gate…", Action.GATE_OVERRIDE, value=OnboardingRef(onboarding_id).encode(), style="danger"
            ),
            block_id=f"gate.{onboarding_id}",
        ),
    ]


def internal_summary_text(record: OnboardingRecord) -> str:
    """The internal handoff post's notification text."""
    return f"Handoff: {b.esc(record.onboarding.customer_name)}"


def internal_story_text(record: OnboardingRecord) -> str:
    """The notification text of the handoff notes in the handoff post's thread."""
    return f"Handoff notes: {b.esc(record.onboarding.customer_name)}"


def internal_story(record: OnboardingRecord) -> list[dict[str, Any]]:
    ob = record.onboarding
    parts = [
        ("What was sold", ob.sold),
        ("Commitments made to close", ob.commitments),
        ("Success criteria, in their words", ob.success_criteria),
        ("First value", ob.first_value_definition),
        ("Full value", ob.full_value_definition),
        (":lock: Concerns raised in the sale (internal)", ob.concerns),
        (":lock: Political dynamics (internal)", ob.political_dynamics),
    ]
    return [b.section(f"*{label}*\n{b.esc(text)}") for label, text in parts if text]


# --- shared channel -------------------------------------------------------------------------------


def welcome(record: OnboardingRecord) -> list[dict[str, Any]]:
    ob = record.onboarding
    csm = record.person(Role.IMPLEMENTATION_CSM)
    champion = record.person(Role.CHAMPION)
    out = [
        b.header(f"Welcome aboard, {ob.customer_name}!"),
        b.section(
            f"This channel is where we'll get you live. {who(csm)} leads the project on our side"
            + (f", with {who(champion)} on yours" if champion else "")
            + f". We're aiming to be live on *{_day(ob.target_go_live_on)}*."
        ),
        b.section(
            "Each step below has an owner on each side. When something needs you, it shows up here with a "
            "button, and the cards in this channel stay current as work moves."
        ),
    ]
    if ob.success_criteria:
        out.append(b.section(f"*What success looks like, in your words*\n{b.esc(ob.success_criteria)}"))
    if ob.first_value_definition:
        out.append(b.section(f"*First milestone that matters*\n{b.esc(ob.first_value_definition)}"))
    return out


def welcome_text(record: OnboardingRecord) -> str:
    """The welcome's notification text (mrkdwn, like its blocks)."""
    return f"Welcome aboard, {b.esc(record.onboarding.customer_name)}!"


def plan_overview_text(record: OnboardingRecord) -> str:
    """The plan overview's notification text."""
    return f"Onboarding plan: {b.esc(record.onboarding.customer_name)}"


def plan_overview(record: OnboardingRecord) -> list[dict[str, Any]]:
    """Stages with their dates and the next milestones; kept current in place as the plan moves."""
    ob = record.onboarding
    by_stage: dict[str, list] = defaultdict(list)
    for m in record.milestones:
        by_stage[m.stage].append(m)
    lines = []
    for stage in Stage:
        items = by_stage.get(stage.value)
        if not items:
            continue
        marker = "▶" if stage.value == ob.stage else "•"
        start, due = min(m.start_on for m in items), max(m.due_on for m in items)
        done = sum(1 for m in items if m.status == "done")
        lines.append(f"{marker} *{stage.label}*  {_day(start)} – {_day(due)}  ({done}/{len(items)} done)")
    upcoming = [m for m in record.milestones if m.status != "done"][:5]
    next_lines = []
    for m in upcoming:
        customer = record.person_by_id(m.customer_owner_id)
        vendor = record.person_by_id(m.vendor_owner_id)
        owners = f"{_owner(customer, m.customer_owner_role)} · {_owner(vendor, m.vendor_owner_role)}"
        next_lines.append(f"• {b.esc(m.title)} — due {_day(m.due_on)} — {owners}")
    return [
        b.header(f"Onboarding plan: {ob.customer_name}"),
        b.section("\n".join(lines) or "No milestones yet."),
        b.section("*Coming up*\n" + ("\n".join(next_lines) or "Nothing open.")),
        b.context(f"{go_live_line(ob)} · times are {ob.timezone}"),
        b.actions(b.button("My tasks", Action.MY_TASKS, OnboardingRef(ob.id).encode()), block_id=f"overview.{ob.id}"),
    ]


def go_live_line(ob: Any) -> str:
    """The agreed go-live with the projected one (dates only: the overview stays pinned for weeks), or
    the day it went live."""
    agreed = _day(ob.target_go_live_on)
    if ob.went_live_on is not None:
        return f"Live since {_day(ob.went_live_on)} (agreed {agreed})"
    if ob.projected_go_live_on is None or ob.projected_go_live_on == ob.target_go_live_on:
        return f"Go-live agreed {agreed}" + (", on course" if ob.projected_go_live_on else "")
    return f"Go-live agreed {agreed}, projected {_day(ob.projected_go_live_on)}"


def override_view(ref: OnboardingRef, customer_name: str) -> dict[str, Any]:
    return b.modal(
        View.GATE_OVERRIDE,
        "Override the gate",
        [
            b.section(
                f"Kick off *{b.esc(customer_name)}* although the readiness gate is not met. "
                "Your name and reason are recorded in the audit log."
            ),
            b.input_block(
                Field.OVERRIDE_REASON,
                "Why kick off anyway?",
                b.text_input(multiline=True, max_length=REASON_MAX, min_length=REASON_MIN),
            ),
        ],
        submit="Override",
        private_metadata=ref.encode(),
    )


def _owner(person: Person | None, role: str | None) -> str:
    if person is not None:
        return who(person)
    label = ROLE_LABELS[Role(role)].lower() if role else "owner"
    return f":warning: owner needed ({label})"
