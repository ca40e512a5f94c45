"""The handoff to the ongoing CSM as people read it: the form, the written handoff (internal only), the
introduction in the shared channel, and the account cadence's reminders.

The written handoff is drafted here from the store as plain text for the CSM to edit in the form; once
submitted it is what they typed, escaped before it is rendered, and it goes to the internal channel
only. The introduction in the shared channel names people and the meeting, nothing of the notes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.domain import ROLE_LABELS, MilestoneStatus, Role
from bot.core.ids import Action, Field, View
from bot.core.payloads import HandoverForm, OnboardingRef
from bot.onboarding.ongoing import EXPANSION_MAX, WRITTEN_MAX, HandoffFacts
from messages import blocks as b
from store.models import AccountHandoff, Person
from store.onboardings import OnboardingRecord

LISTED = 12  # items per list in the draft, so it stays within one input's 3000 characters
CHUNK = 2900  # of the written handoff per section


def _name(person: Person | None) -> str:
    return person.name if person is not None else "nobody named yet"


def _lines(items: list[str], none: str) -> list[str]:
    if not items:
        return [f"- {none}"]
    shown = [f"- {i}" for i in items[:LISTED]]
    if len(items) > LISTED:
        shown.append(f"- …and {len(items) - LISTED} more")
    return shown


def written_draft(facts: HandoffFacts, today: date) -> str:
    """The written handoff, drafted from the store for the CSM to edit (plain text, as people typed it)."""
    record = facts.record
    ob = record.onboarding
    done = [m for m in record.milestones if m.status == MilestoneStatus.DONE]
    open_ = [m for m in record.milestones if m.status != MilestoneStatus.DONE]
    first_value = [m for m in record.milestones if m.first_value]

    def owners(m: Any) -> str:
        customer, vendor = record.person_by_id(m.customer_owner_id), record.person_by_id(m.vendor_owner_id)
        return f"{_name(customer)} (customer) / {_name(vendor)} (us)"

    def standing(m: Any) -> str:
        if m.status == MilestoneStatus.DONE and m.completed_at:
            return f"reached {m.completed_at:%d %b %Y}"
        late = " (late)" if m.due_on < today else ""
        return f"not yet: {m.status.replace('_', ' ')}, due {m.due_on:%d %b %Y}{late}"

    outcomes = [c.strip(" -•") for c in (ob.success_criteria or "").splitlines() if c.strip(" -•")]
    parts = ["SUCCESS OUTCOMES"]
    parts += _lines(outcomes, "none written in the sales handoff")
    if ob.first_value_definition:
        parts.append(f"First value ({ob.first_value_definition}): " + "; ".join(standing(m) for m in first_value))
    if ob.full_value_definition:
        go_live = "live" if ob.csm_countersigned_at else "not live yet"
        parts.append(f"Full value ({ob.full_value_definition}): {go_live}")
    parts += ["", "ACHIEVED"]
    parts += _lines([f"{m.title} ({m.completed_at:%d %b})" if m.completed_at else m.title for m in done], "nothing yet")
    parts += ["", "OUTSTANDING"]
    parts += _lines([f"{m.title}: due {m.due_on:%d %b}, {owners(m)}" for m in open_], "nothing")
    parts += ["", "RISKS"]
    risks = [
        f"Escalation {e.rule} {e.subject or ''} opened {e.opened_on:%d %b}"
        + (", resolved" if e.resolved_at else ", still open")
        for e in facts.escalations
    ]
    if facts.health:
        risks.append("Health: " + ", ".join(f"{h.day:%d %b} {h.score}" for h in facts.health))
    risks += [
        f"Rated {r.stage.replace('_', '-')} {r.score}/5" + (f": {r.comment}" if r.comment else "")
        for r in facts.low_ratings
    ]
    parts += _lines(risks, "no escalations, no low ratings")
    parts += ["", "RELATIONSHIP NOTES (internal)"]
    parts += _lines([t for t in (ob.concerns, ob.political_dynamics) if t], "none from the sales handoff")
    text = "\n".join(parts)
    return b.clip(text, WRITTEN_MAX)


def local(moment: datetime, timezone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(timezone)):%a %d %b %Y, %H:%M} ({timezone})"


def handoff_view(
    facts: HandoffFacts, *, today: date, meeting_day: date, meeting_time: str, draft: str
) -> dict[str, Any]:
    ob = facts.record.onboarding
    input_blocks = [
        b.section(f"Hand *{b.esc(ob.customer_name)}* over to the CSM who carries the account to its renewal."),
        b.input_block(Field.ONGOING_CSM, "Ongoing CSM", b.users_select(facts.ongoing_user_id, "Who takes it over")),
        b.input_block(
            Field.HANDOFF_MEETING_DAY,
            "Handoff meeting: day",
            b.datepicker(meeting_day.isoformat()),
            hint="With the implementation CSM, the ongoing CSM and the champion.",
        ),
        b.input_block(
            Field.HANDOFF_MEETING_TIME,
            "Handoff meeting: time",
            b.timepicker(meeting_time, timezone=ob.timezone),
            hint=f"In the customer's timezone, {ob.timezone}.",
        ),
        b.input_block(Field.RENEWAL_ON, "Renewal date", b.datepicker(facts.renewal_on.isoformat())),
        b.input_block(
            Field.EXPANSION,
            "Expansion opportunities",
            b.text_input(multiline=True, max_length=EXPANSION_MAX, placeholder="More seats, another team, a module…"),
            optional=True,
        ),
        b.input_block(
            Field.WRITTEN_HANDOFF,
            "The written handoff",
            b.text_input(initial=draft, multiline=True, max_length=WRITTEN_MAX),
            hint="Drafted from the onboarding; edit it before it posts. It goes to the internal channel only.",
        ),
    ]
    return b.modal(
        View.ONGOING_HANDOFF,
        "Handoff",
        input_blocks,
        submit="Post the handoff",
        private_metadata=HandoverForm(ob.id, ob.timezone).encode(),
    )


def _chunks(text: str) -> list[str]:
    """The text escaped, in pieces of at most CHUNK characters each (an entity is never cut)."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        shown = b.esc(char)
        if size + len(shown) > CHUNK:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(shown)
        size += len(shown)
    pieces.append("".join(current))
    return pieces


def internal_post(record: OnboardingRecord, handoff: AccountHandoff) -> list[dict[str, Any]]:
    """The written handoff for the internal channel, with the ongoing CSM's Accept button until they press it."""
    ob = record.onboarding
    out = [
        b.header(f"Handoff: {ob.customer_name}"),
        b.section(
            f"*Ongoing CSM:* {b.mention(handoff.ongoing_csm_user_id)}\n"
            f"*Handoff meeting:* {local(handoff.meeting_at, ob.timezone)}\n"
            f"*Renewal:* {handoff.renewal_on:%d %b %Y}\n"
            f"*Written by:* {b.mention(handoff.written_by)}"
        ),
        b.divider(),
    ]
    out += [b.section(part) for part in _chunks(handoff.written) if part.strip()]
    out.append(
        b.section("*Expansion opportunities*\n" + (b.esc(handoff.expansion) if handoff.expansion else "_none noted_"))
    )
    if handoff.accepted_at and handoff.accepted_by:
        out.append(
            b.context(
                f":white_check_mark: Accepted by {b.mention(handoff.accepted_by)} on {handoff.accepted_at:%d %b %Y}."
            )
        )
    else:
        out.append(
            b.context(
                f"{b.mention(handoff.ongoing_csm_user_id)}: once you have read it and met the team, accept it here."
            )
        )
        out.append(
            b.actions(
                b.button("Accept the handoff", Action.ONGOING_ACCEPT, OnboardingRef(ob.id).encode(), style="primary")
            )
        )
    return out


def internal_post_text(record: OnboardingRecord) -> str:
    return f"Handoff to the ongoing CSM: {record.onboarding.customer_name}"


def shared_intro(record: OnboardingRecord, handoff: AccountHandoff) -> str:
    """The introduction in the shared channel: people and the meeting only, in words for the customer."""
    ob = record.onboarding
    csm, champion = record.person(Role.IMPLEMENTATION_CSM), record.person(Role.CHAMPION)
    with_whom = [b.mention(p.slack_user_id) for p in (csm, champion) if p is not None and p.slack_user_id]
    meeting = f"We'll meet on {local(handoff.meeting_at, ob.timezone)}"
    meeting += f" with {' and '.join(with_whom)}" if with_whom else ""
    return (
        f":wave: Meet {b.mention(handoff.ongoing_csm_user_id)}, {ROLE_LABELS[Role.ONGOING_CSM].lower()} for "
        f"*{b.esc(ob.customer_name)}*: they will be your day-to-day contact from here on, through to your renewal. "
        f"{meeting} to walk through what you have achieved so far and what comes next. "
        "Nothing changes in this channel: keep asking here."
    )


def accepted_line(user_id: str) -> str:
    return f"{b.mention(user_id)} accepted the handoff: the account is theirs now."


# -- the account cadence (bot.automation.rules.cadence), as one mrkdwn line each ------------------
REVIEW_WORDS = {"check_in": "monthly check-in", "business_review": "quarterly business review"}


def _when(value: Any) -> str:
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return b.esc(value)
    return f"{d:%a} {d.day} {d:%b %Y}"


def account_numbers(f: dict[str, Any]) -> str:
    """The account's numbers: health, the latest ratings, open escalations."""
    health = f"Health {f['health_score']}" if f.get("health_score") is not None else "No health score yet"
    rated = f.get("ratings") or []
    ratings = (
        "ratings " + ", ".join(f"{b.esc(str(r.get('stage', '')).replace('_', '-'))} {r.get('score')}/5" for r in rated)
        if rated
        else "no ratings yet"
    )
    open_ = int(f.get("open_escalations") or 0)
    escalations = "no open escalations" if not open_ else f"{open_} open escalation{'s' if open_ != 1 else ''}"
    return f"{health} · {ratings} · {escalations} · renewal {_when(f.get('renewal_on'))}"


def cadence_line(rule: str, f: dict[str, Any]) -> str:
    customer = b.esc(f.get("customer_name", ""))
    if rule == "renewal":
        lead = "Time for the renewal conversation"
        return f":calendar: {lead} with *{customer}*: the renewal is on {_when(f.get('renewal_on'))}. {account_numbers(f)}."
    what = REVIEW_WORDS.get(rule, "review")
    number = b.esc(f.get("number", ""))
    return (
        f":calendar: *{customer}*: book the {what} (no. {number}, due {_when(f.get('due_on'))}). {account_numbers(f)}."
    )


def risk_line(f: dict[str, Any]) -> str:
    customer, signal = b.esc(f.get("customer_name", "")), f.get("signal")
    renewal = f"Renewal {_when(f.get('renewal_on'))}."
    if signal == "escalations":
        return (
            f":warning: Renewal risk at *{customer}*: {int(f.get('count') or 0)} escalations in the last "
            f"{int(f.get('days') or 0)} days. {renewal}"
        )
    if signal == "champion_left":
        champion = str(f.get("champion", ""))
        champion = (
            champion if champion.startswith("<@") and champion.endswith(">") and " " not in champion else "The champion"
        )
        return (
            f":warning: Renewal risk at *{customer}*: {champion} (their champion) left the shared channel on "
            f"{_when(f.get('left_on'))}. Find out who carries the account on their side. {renewal}"
        )
    if signal == "champion_changed":
        return (
            f":warning: Renewal risk at *{customer}*: their champion changed on {_when(f.get('left_on'))}. "
            f"Meet the new one before the next review. {renewal}"
        )
    if signal == "slow_review":
        what = REVIEW_WORDS.get(str(f.get("review")), "review")
        return (
            f":warning: Renewal risk at *{customer}*: the {what} due {_when(f.get('due_on'))} shows no sign of being "
            f"scheduled after {int(f.get('business_days') or 0)} business days. {renewal}"
        )
    if signal == "usage_declining":
        return (
            f":chart_with_downwards_trend: Renewal risk at *{customer}*: weekly active users are "
            f"{int(f.get('below_peak_percent') or 0)}% below their peak of the last {int(f.get('weeks') or 0)} weeks "
            f"({int(f.get('peak') or 0)} then, {int(f.get('last') or 0)} now). Ask the champion what changed and "
            f"show the teams that stopped what they are missing. {renewal}"
        )
    return f":warning: Renewal risk at *{customer}*. {renewal}"
