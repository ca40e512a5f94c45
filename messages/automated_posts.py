"""What nudges, escalations and digests say, as Block Kit.

`render(rows)` turns the outbox rows going out together into one message: a single notice, or a
digest with one line per milestone (and its buttons). What a message says comes from the row's
`payload["facts"]`, which the rules fill (bot.automation.rules documents them per rule). Every fact is
optional here and a missing one only leaves its part out. Free text (titles, reasons) is escaped;
person fields are display strings ("<@U123>" or a name): a mention is kept, anything else escaped.

Facts read, by rule:
    every rule          customer_name; addressed (the person spoken to; named in channel posts)
    milestone rules     milestone_id + version (with both: Mark done and Mark blocked / Unblock
    (due_soon, overdue,   buttons carrying a MilestoneRef), title, due_on, status, customer_owner,
    blocked, kickoff_     vendor_owner
    recap_missing)
    due_soon            business_days_left
    overdue             days_overdue
    blocked, shared     days_blocked, blocked_reason, executive_sponsor, unblock_call_hours, unblock_call_by
    blocked, internal   days_blocked, blocked_reason, unblocker, waiting_on, level, target_go_live_on,
                        days_to_target
    behind_schedule     days_behind, target_go_live_on, projected_go_live_on, economic_buyer, csm_manager
    silent_account      days_silent, open_milestones, play, project_owner, executive_sponsor
    kickoff_recap_missing   hours_since_kickoff
    health_drop         score, previous_score, previous_day, parts / previous_parts ({name: {score}})
    weekly_overview     week_of, done_last_week, due_this_week, blocked, awaiting_customer (lists of
                        {title, due_on, owner}); target_go_live_on, projected_go_live_on, went_live_on
    any other rule      text: the line to say, as is
    delivery_failed     (the deliverer's own alert) channel, error, count, csm

Words for the shared channel are for the customer: they never speak of risk, escalation, fault or
managers. A rule whose subject is internal by nature refuses to render for the shared channel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.domain import MilestoneStatus
from bot.core.ids import Action
from bot.core.notices import DELIVERY_FAILED, Audience, Rule
from bot.core.payloads import MilestoneRef, NoticeRef, SnoozeChoice, SnoozeSpan
from messages import blocks as b
from store.models import Notification

# Each digest line takes two blocks; with the header, intro and the "more" line a digest stays
# well under Slack's 50 blocks.
DIGEST_LINES = 20
FALLBACK_TEXT_MAX = 300

MILESTONE_RULES = frozenset({Rule.DUE_SOON, Rule.OVERDUE, Rule.BLOCKED, Rule.KICKOFF_RECAP_MISSING})
SNOOZABLE = frozenset(
    {
        Rule.DUE_SOON,
        Rule.OVERDUE,
        Rule.SILENT_ACCOUNT,
        Rule.KICKOFF_RECAP_MISSING,
        Rule.BEHIND_SCHEDULE,
        Rule.HEALTH_DROP,
    }
)
INTERNAL_ONLY = frozenset(
    {Rule.BEHIND_SCHEDULE, Rule.SILENT_ACCOUNT, Rule.KICKOFF_RECAP_MISSING, Rule.HEALTH_DROP, DELIVERY_FAILED}
)
# Most pressing first within a digest.
ORDER = [Rule.BLOCKED, Rule.OVERDUE, Rule.DUE_SOON]

ERROR_WORDS = {
    "channel_not_found": "the channel is gone, or I can't see it",
    "not_in_channel": "I'm not a member there any more: invite me back with /invite",
    "is_archived": "the channel is archived",
    "account_inactive": "that Slack account is deactivated",
    "user_not_found": "that person isn't in Slack any more",
    "invalid_blocks": "Slack refused the message's layout",
    "msg_too_long": "the message was too long for Slack",
    "audience": "it was addressed to the wrong channel, so I held it back",
    "render_failed": "I couldn't put it into words for that channel",
}


class InternalOnly(ValueError):
    """A notice meant for the vendor's team was addressed to the channel shared with the customer."""


@dataclass(frozen=True)
class Message:
    text: str  # the notification text; the blocks are what people see
    blocks: list[dict[str, Any]]


# -- formatting ---------------------------------------------------------------------------------
_esc = b.esc
_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def _person(value: Any) -> str:
    """A person fact: a mention of a Slack user the rules resolved stays one; a typed name is escaped."""
    text = str(value)
    return text if _MENTION.fullmatch(text) else _esc(text)


def _day(value: Any) -> str:
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return _esc(value)
    return f"{d:%a} {d.day} {d:%b}"


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}" if str(n) == "1" else f"{n} {word}s"


def _facts(row: Notification) -> dict[str, Any]:
    facts = (row.payload or {}).get("facts")
    return facts if isinstance(facts, dict) else {}


def _rule(row: Notification) -> str:
    try:
        return Rule(row.rule)
    except ValueError:
        return row.rule


def _title(row: Notification, f: dict[str, Any]) -> str:
    return _esc(f.get("title") or row.subject or "A milestone")


def _owners(f: dict[str, Any]) -> str:
    names = ", ".join(_person(v) for v in (f.get("customer_owner"), f.get("vendor_owner")) if v)
    return f" · {names}" if names else ""


def ref_of(row: Notification) -> NoticeRef:
    return NoticeRef(row.onboarding_id or 0, row.rule, row.subject)


# -- one line per rule --------------------------------------------------------------------------
def _in_channel(row: Notification) -> bool:
    return row.audience != Audience.DM


def _to(row: Notification, f: dict[str, Any]) -> str:
    """Who a channel post speaks to, as an opening ("<@U…>, "); nothing in a direct message."""
    return f"{_person(f['addressed'])}, " if f.get("addressed") and _in_channel(row) else ""


def _owners_unless_addressed(row: Notification, f: dict[str, Any]) -> str:
    return "" if _to(row, f) else _owners(f)


def _due_soon(row: Notification, f: dict[str, Any], shared: bool) -> str:
    when = f" is due {_day(f['due_on'])}" if f.get("due_on") else " is due soon"
    left = f.get("business_days_left")
    left = f" (in {_plural(left, 'business day')})" if isinstance(left, int) and left > 0 else ""
    return f":calendar: {_to(row, f)}*{_title(row, f)}*{when}{left}{_owners_unless_addressed(row, f)}"


def _overdue(row: Notification, f: dict[str, Any], shared: bool) -> str:
    ago = f"{_plural(f['days_overdue'], 'day')} ago" if f.get("days_overdue") else ""
    if f.get("due_on"):
        when, late = f" was due {_day(f['due_on'])}", f" ({ago})" if ago else ""
    else:
        when, late = (f" was due {ago}", "") if ago else (" is past its due date", "")
    return f":hourglass_flowing_sand: {_to(row, f)}*{_title(row, f)}*{when}{late}{_owners_unless_addressed(row, f)}"


def _blocked(row: Notification, f: dict[str, Any], shared: bool) -> str:
    days = f" for {_plural(f['days_blocked'], 'day')}" if f.get("days_blocked") else ""
    reason = f" ({_esc(f['blocked_reason'])})" if f.get("blocked_reason") else ""
    if shared:
        who = f.get("executive_sponsor") or f.get("addressed")
        ask = f"{_person(who)}, could" if who else "Could"
        by = f" by {_day(f['unblock_call_by'])}" if f.get("unblock_call_by") else " in the next two days"
        return (
            f":construction: *{_title(row, f)}* has been waiting{days}{reason}. {ask} we get the right "
            f"people on a short call{by} to get it moving?"
        )
    customer = f" for {_esc(f['customer_name'])}" if f.get("customer_name") else ""
    lines = [f":rotating_light: *{_title(row, f)}*{customer} has been blocked{days}{reason}."]
    waiting = {"customer": "the customer", "vendor": "our side"}.get(str(f.get("waiting_on")))
    if f.get("unblocker") or waiting:
        lines.append(f"Waiting on {_esc(f.get('unblocker') or waiting)}.")
    if f.get("level"):
        lines.append("Nobody has picked it up yet, so it comes to you.")
    who = f"{_person(f['addressed'])}: p" if f.get("addressed") and _in_channel(row) else "P"
    lines.append(f"{who}lease propose an unblock call within 48 hours.")
    if f.get("target_go_live_on"):
        days_left = f" ({_plural(f['days_to_target'], 'day')} away)" if f.get("days_to_target") is not None else ""
        lines.append(f"Go-live is {_day(f['target_go_live_on'])}{days_left}.")
    return " ".join(lines)


def _behind(row: Notification, f: dict[str, Any], shared: bool) -> str:
    customer = _esc(f.get("customer_name") or "This onboarding")
    days = f"{_plural(f['days_behind'], 'day')} " if f.get("days_behind") else ""
    dates = f" (agreed go-live {_day(f['target_go_live_on'])}" if f.get("target_go_live_on") else ""
    if dates and f.get("projected_go_live_on"):
        dates += f", now heading for {_day(f['projected_go_live_on'])}"
    dates += ")" if dates else ""
    buyer = f"{_person(f['economic_buyer'])}'s manager" if f.get("economic_buyer") else "the economic buyer's manager"
    if _in_channel(row):
        who = _person(f["csm_manager"]) if f.get("csm_manager") else "the CSM's manager"
        play = f"Suggested play: {who} reaches out to {buyer}."
    else:
        play = f"Suggested play: reach out to {buyer}."
    return f":chart_with_downwards_trend: {customer} is {days}behind the agreed timeline{dates}. {play}"


def _silent(row: Notification, f: dict[str, Any], shared: bool) -> str:
    customer = _esc(f.get("customer_name") or "the customer")
    days = f" for {_plural(f['days_silent'], 'day')}" if f.get("days_silent") else ""
    still = f", with {_plural(f['open_milestones'], 'milestone')} open" if f.get("open_milestones") else ""
    owner = _person(f["project_owner"]) if f.get("project_owner") else "the project owner"
    sponsor = _person(f["executive_sponsor"]) if f.get("executive_sponsor") else "the executive sponsor"
    if f.get("play") == "contact_executive_sponsor":
        play = f"Still quiet after checking with the project owner: time to reach out to {sponsor}."
    else:
        play = f"Check in with {owner} to confirm they still drive the project; if it stays quiet, go to {sponsor}."
    return f":zipper_mouth_face: Nothing from {customer}'s side{days}{still}. {play}"


def _recap(row: Notification, f: dict[str, Any], shared: bool) -> str:
    customer = _esc(f.get("customer_name") or "the customer")
    hours = f.get("hours_since_kickoff")
    when = ""
    if isinstance(hours, (int, float)) and hours > 0:
        when = f" {_plural(int(hours), 'hour')} ago" if hours < 48 else f" {_plural(int(hours // 24), 'day')} ago"
    return (
        f":memo: The kickoff with {customer} ended{when} and its recap isn't in the shared channel yet. "
        "A short recap keeps everyone on the same page."
    )


def _part_score(value: Any) -> Any:
    return value.get("score", "?") if isinstance(value, dict) else value


def _health(row: Notification, f: dict[str, Any], shared: bool) -> str:
    customer = _esc(f.get("customer_name") or "This onboarding")
    moved = (
        f" went from {_esc(f['previous_score'])} to {_esc(f.get('score', '?'))}"
        if "previous_score" in f
        else " dropped"
    )
    since = f" since {_day(f['previous_day'])}" if f.get("previous_day") else ""
    parts: dict[str, Any] = f["parts"] if isinstance(f.get("parts"), dict) else {}
    before: dict[str, Any] = f["previous_parts"] if isinstance(f.get("previous_parts"), dict) else {}
    shown = []
    for name, value in parts.items():
        was = f" (was {_esc(_part_score(before[name]))})" if name in before else ""
        shown.append(f"{_esc(name)} {_esc(_part_score(value))}{was}")
    why = f"\n{' · '.join(shown)}" if shown else ""
    return f":heartpulse: Health of {customer}{moved}{since}.{why}"


def _item(entry: Any) -> str:
    if not isinstance(entry, dict):
        return f"• {_esc(entry)}"
    due = f", {_day(entry['due_on'])}" if entry.get("due_on") else ""
    owner = f" · {_person(entry['owner'])}" if entry.get("owner") else ""
    return f"• {_esc(entry.get('title') or '?')}{due}{owner}"


WEEKLY_LISTS = (
    ("done_last_week", "Done last week"),
    ("due_this_week", "Due this week"),
    ("blocked", "Waiting to be unblocked"),
    ("awaiting_customer", "Waiting for your confirmation"),
)
WEEKLY_ITEMS = 15


def _weekly(row: Notification, f: dict[str, Any], shared: bool) -> str:
    week = f" of {_day(f['week_of'])}" if f.get("week_of") else ""
    lines = [f":sunrise: *The week{week}*"]
    for key, heading in WEEKLY_LISTS:
        entries = f.get(key) or []
        if entries:
            lines.append(f"*{heading}*")
            lines += [_item(e) for e in entries[:WEEKLY_ITEMS]]
            if len(entries) > WEEKLY_ITEMS:
                lines.append(f"…and {len(entries) - WEEKLY_ITEMS} more")
    if len(lines) == 1:
        lines.append("A quiet week: nothing due and nothing waiting.")
    if f.get("went_live_on"):
        lines.append(f"Live since {_day(f['went_live_on'])}.")
    elif f.get("target_go_live_on"):
        ahead = (
            f", and the work left points to {_day(f['projected_go_live_on'])}" if f.get("projected_go_live_on") else ""
        )
        lines.append(f"Go-live: agreed for {_day(f['target_go_live_on'])}{ahead}.")
    return "\n".join(lines)


def _delivery_failed(row: Notification, f: dict[str, Any], shared: bool) -> str:
    channel = str(f.get("channel") or "")
    where = f"<#{channel}>" if channel[:1] in ("C", "G", "D") else f"a direct message to <@{channel}>"
    error = str(f.get("error") or "")
    reason = ERROR_WORDS.get(error, f"Slack answered `{_esc(error)}`" if error else "Slack refused it")
    csm = f"{_person(f['csm'])} " if f.get("csm") else ""
    count = f.get("count") or 1
    return (
        f":warning: {csm}I couldn't post {_plural(count, 'message')} to {where}: {reason}. "
        "I won't retry them; they're listed in the App Home."
    )


def _own_text(row: Notification, f: dict[str, Any], shared: bool) -> str:
    if not f.get("text"):
        raise ValueError(f"no words for rule {row.rule!r}: give the notice a `text` fact")
    return _esc(f["text"])


LINES = {
    Rule.DUE_SOON: _due_soon,
    Rule.OVERDUE: _overdue,
    Rule.BLOCKED: _blocked,
    Rule.BEHIND_SCHEDULE: _behind,
    Rule.SILENT_ACCOUNT: _silent,
    Rule.KICKOFF_RECAP_MISSING: _recap,
    Rule.HEALTH_DROP: _health,
    Rule.WEEKLY_OVERVIEW: _weekly,
    DELIVERY_FAILED: _delivery_failed,
}


def line(row: Notification) -> str:
    """The notice in one mrkdwn line (or a few, for overviews)."""
    rule, shared = _rule(row), row.audience == Audience.SHARED
    if shared and rule in INTERNAL_ONLY:
        raise InternalOnly(f"{row.rule} is for the vendor's team, not the shared channel")
    return LINES.get(rule, _own_text)(row, _facts(row), shared)


# -- controls -----------------------------------------------------------------------------------
def _milestone_buttons(row: Notification, f: dict[str, Any]) -> list[dict[str, Any]]:
    if _rule(row) not in MILESTONE_RULES or not row.onboarding_id:
        return []
    try:
        ref = MilestoneRef(row.onboarding_id, int(f["milestone_id"]), int(f["version"])).encode()
    except (KeyError, TypeError, ValueError):
        return []
    done = b.button("Mark done", Action.MILESTONE_DONE, ref, style="primary")
    if _rule(row) == Rule.BLOCKED or f.get("status") == MilestoneStatus.BLOCKED:
        return [done, b.button("Unblock", Action.MILESTONE_UNBLOCK, ref)]
    return [done, b.button("Mark blocked", Action.MILESTONE_BLOCK, ref)]


def _snooze_controls(ref: NoticeRef) -> list[dict[str, Any]]:
    select = b.static_select(
        [
            b.option("1 day", SnoozeChoice.of(ref, SnoozeSpan.ONE_DAY).encode()),
            b.option("3 days", SnoozeChoice.of(ref, SnoozeSpan.THREE_DAYS).encode()),
        ],
        placeholder="Snooze",
    )
    pick = b.datepicker()
    pick["placeholder"] = b.plain("Snooze until…", 150)
    return [{**select, "action_id": Action.NUDGE_SNOOZE}, {**pick, "action_id": Action.NUDGE_SNOOZE_UNTIL}]


def controls(row: Notification) -> dict[str, Any] | None:
    """The actions block under a notice, or None when it has nothing to click."""
    f, rule, ref = _facts(row), _rule(row), ref_of(row)
    elements = _milestone_buttons(row, f)
    if row.urgent and row.audience != Audience.SHARED and rule != DELIVERY_FAILED:
        elements.append(b.button("I'm on it", Action.ESCALATION_ACK, ref.encode(), style="primary"))
    snoozable = rule in SNOOZABLE and not row.urgent and row.onboarding_id
    if snoozable:
        elements += _snooze_controls(ref)
    if not elements:
        return None
    # A datepicker has no value, so the snooze handler reads the notice from the block id.
    block_id = ref.encode() if snoozable else f"notice.{ref.encode()}"
    return b.actions(*elements, block_id=block_id[:255])


def _with_controls(row: Notification, prefix: str = "") -> list[dict[str, Any]]:
    out = [b.section(prefix + line(row))]
    actions = controls(row)
    if actions:
        out.append(actions)
    return out


# -- messages -----------------------------------------------------------------------------------
def _fallback(text: str) -> str:
    first = text.splitlines()[0] if text else "An onboarding update"
    return b.clip(first, FALLBACK_TEXT_MAX)


def render_notice(row: Notification) -> Message:
    blocks = _with_controls(row)
    rule = _rule(row)
    if rule == Rule.OVERDUE and len(blocks) > 1:
        blocks.insert(
            1, b.context("Done already? Mark it done. Something in the way? Mark it blocked and say what would help.")
        )
    return Message(text=_fallback(line(row)), blocks=blocks)


def _customer(row: Notification) -> str:
    return str(_facts(row).get("customer_name") or "")


def _digest_heading(rows: Sequence[Notification]) -> str:
    customers = {_customer(r) for r in rows if _customer(r)}
    if len(customers) == 1:
        one = customers.pop()
        return f"Your check-in for {one}" if rows[0].audience == Audience.DM else f"Today with {one}"
    return "Your onboarding check-in" if rows[0].audience == Audience.DM else "Today's onboarding check-in"


def _one_per_reason(rows: Sequence[Notification]) -> list[Notification]:
    """One line per (onboarding, rule, subject): the latest, when a backlog holds several periods."""
    latest: dict[tuple, Notification] = {}
    for row in rows:
        latest[(row.onboarding_id, row.rule, row.subject)] = row
    rank: dict[str, int] = {rule: i for i, rule in enumerate(ORDER)}
    return sorted(latest.values(), key=lambda r: (r.onboarding_id or 0, rank.get(_rule(r), len(ORDER)), r.id or 0))


def render_digest(rows: Sequence[Notification]) -> Message:
    lines = _one_per_reason(rows)
    shown, rest = lines[:DIGEST_LINES], lines[DIGEST_LINES:]
    count = _plural(len(lines), "thing")
    blocks: list[dict[str, Any]] = [b.header(_digest_heading(rows)), b.context(f"{count} for today, in one place.")]
    # A direct message can gather several customers: then each line says whose it is.
    several = len({r.onboarding_id for r in lines}) > 1
    for row in shown:
        prefix = f"*{_esc(_customer(row))}* · " if several and _customer(row) else ""
        blocks += _with_controls(row, prefix)
    if rest:
        titles = ", ".join(_title(r, _facts(r)) for r in rest)
        blocks.append(b.section(f"…and {len(rest)} more: {titles}"))
    return Message(text=f"{_esc(_digest_heading(rows))}: {count}", blocks=blocks)


def render(rows: Sequence[Notification]) -> Message:
    """The one message for rows going to one place together."""
    if not rows:
        raise ValueError("nothing to render")
    return render_notice(rows[0]) if len(rows) == 1 else render_digest(rows)


MESSAGE_BLOCKS_MAX = 50


def picked_up(blocks: list[dict[str, Any]], user_id: str) -> list[dict[str, Any]]:
    """An escalation post as it was, without its "I'm on it" button and with who picked it up."""
    kept = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", []) if e.get("action_id") != Action.ESCALATION_ACK]
            if not elements:
                continue
            block = {**block, "elements": elements}
        kept.append(block)
    return [*kept[: MESSAGE_BLOCKS_MAX - 1], b.context(f":raising_hand: {b.mention(user_id)} is on it")]
