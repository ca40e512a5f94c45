"""What nudges, escalations and digests say, as Block Kit.

`render(rows)` turns the outbox rows going out together into one message: a single notice, or a
digest with one line per milestone (and its buttons). What a message says comes from the row's
`payload["facts"]`, which the rules fill (bot.automation.rules documents them per rule). Every fact is
optional here and a missing one only leaves its part out. Free text (titles, reasons) is escaped;
person fields are display strings ("<@U123>" or a name): a mention is kept, anything else escaped.

Facts read, by rule:
    every rule          customer_name; addressed (the person spoken to; named in channel posts)
    milestone rules     milestone_id + version (with both: the buttons its reader may use, carrying
    (due_soon, overdue,   a MilestoneRef: Mark done / Mark blocked, Confirm / Not yet… while it waits
    blocked, kickoff_     for the customer, Unblock on an escalation), title, due_on, status,
    recap_missing)        customer_owner, vendor_owner
    sign-off nudges     signoff, sponsor, sponsor_reminded, signoff_state, card_channel / card_ts (no
                        milestone buttons; while the sign-off is open, the vendor's note offers "Remind
                        in the shared channel")
    due_soon            business_days_left
    overdue             days_overdue
    blocked, shared     days_blocked, blocked_reason, executive_sponsor, unblock_call_hours, unblock_call_by
    blocked, internal   days_blocked, blocked_reason, unblocker, waiting_on, level, passed_over,
                        unanswered_since, target_go_live_on, days_to_target, card_channel / card_ts
    signoff_reminder    sponsor, card_channel / card_ts
    behind_schedule     days_behind, target_go_live_on, projected_go_live_on, economic_buyer, csm_manager
    silent_account      days_silent, open_milestones, play, project_owner, executive_sponsor
    kickoff_recap_missing   hours_since_kickoff
    health_drop         score, previous_score, previous_day, parts / previous_parts ({name: {score, ...}}),
                        play (the part to act on)
    portfolio_digest    since, onboardings, on_track / at_risk / behind / live, compared, and the lists
                        went_live, moved_stage, newly_at_risk, newly_behind, escalations_opened,
                        escalations_closed, low_ratings (messages.portfolio_digest)
    weekly_overview     week_of, done_last_week, due_this_week, blocked, awaiting_customer (lists of
                        {title, due_on, owner}); target_go_live_on, projected_go_live_on, went_live_on
    after go-live       (post_go_live_check_in, value_report, success_story, expansion_conversation,
                        first_business_review, expansion_readiness, executive_summary, value_play) the
                        facts of bot.automation.rules, put into words by the templates of
                        messages.after_go_live_posts (a play is named by its subject); value_report
                        offers "Preview the value report"; only executive_summary is for the customer
    any other rule      text: the line to say, as is
    delivery_failed     (the deliverer's own alert) channel, error, count, csm

Words for the shared channel and for a customer's direct messages are for the customer: they never
speak of risk, escalation, fault or managers. A rule whose subject is internal by nature refuses to
render for them. Controls are offered to a post's reader only when the permission table lets them
use them (`reader`, `milestone_acts`); a customer's direct message has none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.domain import Act, MilestoneStatus
from bot.core.ids import Action
from bot.core.notices import DELIVERY_FAILED, MILESTONE_SNOOZES, Audience, Rule
from bot.core.payloads import MilestoneRef, NoticeRef, SnoozeChoice, SnoozeSpan
from bot.milestones import permissions
from bot.milestones.permissions import Standing
from messages import after_go_live_posts, ongoing
from messages import blocks as b
from messages.portfolio_digest import digest_text
from messages.templates import SHIPPED_TEMPLATES, Templates
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
    | {Rule.CHECK_IN, Rule.BUSINESS_REVIEW, Rule.RENEWAL, Rule.RENEWAL_RISK}  # the account cadence
    | (after_go_live_posts.RULES - after_go_live_posts.FOR_THE_CUSTOMER)  # the post-go-live cadence and plays
    | {Rule.PORTFOLIO_DIGEST}
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
    return row.audience in (Audience.SHARED, Audience.INTERNAL)


def _for_customer(row: Notification) -> bool:
    """Whether the customer reads it: the shared channel, or a direct message to one of their people."""
    return row.audience in (Audience.SHARED, Audience.CUSTOMER_DM)


def card_link(f: dict[str, Any], words: str) -> str:
    """A link to the card named by the facts (card_channel, card_ts), or the words alone."""
    channel, ts = str(f.get("card_channel") or ""), str(f.get("card_ts") or "")
    if not (channel[:1] in ("C", "G") and ts.replace(".", "").isdigit()):
        return words
    return f"<https://slack.com/archives/{channel}/p{ts.replace('.', '')}|{words}>"


def _to(row: Notification, f: dict[str, Any]) -> str:
    """Who a channel post speaks to, as an opening ("<@U…>, "); nothing in a direct message."""
    return f"{_person(f['addressed'])}, " if f.get("addressed") and _in_channel(row) else ""


def _owners_unless_addressed(row: Notification, f: dict[str, Any]) -> str:
    return "" if _to(row, f) else _owners(f)


def _signoff(row: Notification, f: dict[str, Any], late: bool) -> str:
    """A sign-off reminder: to the sponsor in private, or to the vendor's people with what was done."""
    day = _day(f["due_on"]) if f.get("due_on") else ""
    customer = _esc(f.get("customer_name") or "the project")
    card = card_link(f, "the sign-off card")
    if row.audience == Audience.CUSTOMER_DM:
        when = (
            (f"was planned for {day}" if day else "is open")
            if late
            else (f"is planned for {day}" if day else "is coming up")
        )
        where = (
            f"Everything is on {card} in our shared channel"
            if f.get("card_channel")
            else "It will be on the sign-off card in our shared channel once the go-live stage starts"
        )
        return (
            f":memo: The go-live sign-off for {customer} {when}. {where}: when you're happy with what you've "
            "seen, sign it off there, or tell us there what's still missing."
        )
    sponsor = _person(f["sponsor"]) if f.get("sponsor") else "the executive sponsor"
    if late:
        ago = f" ({_plural(f['days_overdue'], 'day')} ago)" if f.get("days_overdue") else ""
        when = f"was due {day}{ago}" if day else "is past its due date"
    else:
        when = f"is due {day}" if day else "is due soon"
    if f.get("signoff_state") == "waiting":
        told = (
            f"It can't be signed yet: the go-live work on {card} comes first, so I haven't reminded {sponsor}. "
            "Finish what the card lists, and I'll remind them once it's theirs to sign."
        )
    elif f.get("signoff_state") == "countersign":
        told = f"{sponsor} has signed off; your countersignature on {card} is what's left."
    elif f.get("sponsor_reminded"):
        told = (
            f"I reminded {sponsor} in a direct message, with a link to {card}; nothing was said in the shared "
            "channel. Post a reminder there only if you think it helps."
        )
    else:
        told = f"{sponsor} isn't in Slack, so I couldn't remind them: reach out yourself, or post a reminder there."
    return f":memo: {_to(row, f)}The go-live sign-off for {customer} {when}. {told}"


def _awaiting(row: Notification, f: dict[str, Any]) -> str:
    """What a milestone marked done still waits for: its customer-side owner's confirmation."""
    if f.get("status") != MilestoneStatus.AWAITING_CONFIRMATION:
        return ""
    if _for_customer(row):
        return ": marked done, and waiting for your confirmation"
    owner = _person(f["customer_owner"]) if f.get("customer_owner") else "the customer"
    return f": marked done, waiting for {owner} to confirm"


def _due_soon(row: Notification, f: dict[str, Any], shared: bool) -> str:
    if f.get("signoff"):
        return _signoff(row, f, late=False)
    when = f" is due {_day(f['due_on'])}" if f.get("due_on") else " is due soon"
    left = f.get("business_days_left")
    left = f" (in {_plural(left, 'business day')})" if isinstance(left, int) and left > 0 else ""
    return (
        f":calendar: {_to(row, f)}*{_title(row, f)}*{when}{left}{_owners_unless_addressed(row, f)}{_awaiting(row, f)}"
    )


def _overdue(row: Notification, f: dict[str, Any], shared: bool) -> str:
    if f.get("signoff"):
        return _signoff(row, f, late=True)
    ago = f"{_plural(f['days_overdue'], 'day')} ago" if f.get("days_overdue") else ""
    if f.get("due_on"):
        when, late = f" was due {_day(f['due_on'])}", f" ({ago})" if ago else ""
    else:
        when, late = (f" was due {ago}", "") if ago else (" is past its due date", "")
    return (
        f":hourglass_flowing_sand: {_to(row, f)}*{_title(row, f)}*{when}{late}"
        f"{_owners_unless_addressed(row, f)}{_awaiting(row, f)}"
    )


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
        before = [_person(p) for p in f.get("passed_over") or [] if p]
        since = f" since {_day(f['unanswered_since'])}" if f.get("unanswered_since") else ""
        if before:
            lines.append(f"{' and '.join(before)} hasn't picked it up{since}, so it comes to you.")
        else:
            lines.append(f"Nobody picked it up{since}, so it comes to you.")
    who = f"{_person(f['addressed'])}: p" if f.get("addressed") and _in_channel(row) else "P"
    lines.append(f"{who}lease propose an unblock call within 48 hours, and press *I'm on it* so it stops climbing.")
    nxt = {0: f.get("csm_manager"), 1: f.get("escalation_contact")}.get(f.get("level") or 0)
    if nxt and nxt != f.get("addressed"):
        lines.append(f"If nobody picks it up, it goes to {_person(nxt)} next.")
    if f.get("target_go_live_on"):
        days_left = f" ({_plural(f['days_to_target'], 'day')} away)" if f.get("days_to_target") is not None else ""
        lines.append(f"Go-live is {_day(f['target_go_live_on'])}{days_left}.")
    if f.get("card_channel"):
        lines.append(card_link(f, "Open its card") + " to unblock it once the way is clear.")
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


def _signoff_reminder(row: Notification, f: dict[str, Any], shared: bool) -> str:
    """The reminder a CSM chose to post in the shared channel: gentle, and with the way to do it."""
    sponsor = f"{_person(f['sponsor'])}, a" if f.get("sponsor") else "A"
    return (
        f":memo: {sponsor} quick reminder: the go-live sign-off is ready for you on "
        f"{card_link(f, 'the sign-off card')}. If something still needs to happen first, say so here and we'll "
        "take care of it."
    )


# What each part of the health score measures, and the play when it is the part that fell the most.
HEALTH_PARTS = {
    "usage": (
        "customer-side messages and clicks in the last {days} days, against a target of {target}",
        "ask the champion what changed for the team this week and offer a short working session",
    ),
    "progress": (
        "milestones done among those due ({done_of_due} of {due}) and done on time ({on_time} of {done})",
        "walk the overdue milestones with the project owner and agree new dates or unblock them",
    ),
    "sponsor": (
        "the executive sponsor's own activity in the last {days} days, against a target of {target}",
        "send the sponsor a three-line progress note and ask for fifteen minutes this week",
    ),
    "voice": (
        "how the customer rated {stage}: {mean} of 5 on average from {ratings} answer(s)",
        "ask the people who rated it what went wrong, and agree one concrete change for the next stage",
    ),
}


def _part_line(name: str, value: Any, before: Any) -> str:
    score = _esc(_part_score(value))
    was = f" (was {_esc(_part_score(before))})" if before is not None else ""
    what = ""
    if name in HEALTH_PARTS and isinstance(value, dict):
        try:
            what = ": " + _esc(HEALTH_PARTS[name][0].format(**value))
        except (KeyError, IndexError, ValueError):
            what = ""
    return f"• *{_esc(name)}* {score}{was}{what}"


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
    shown = [_part_line(name, value, before.get(name)) for name, value in parts.items()]
    why = "\n" + "\n".join(shown) if shown else ""
    play = HEALTH_PARTS.get(str(f.get("play") or ""))
    todo = f"\n*Play:* {play[1]}." if play else ""
    return f":heartpulse: Health of {customer}{moved}{since}. Each part scores 0-100:{why}{todo}"


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
    Rule.SIGNOFF_REMINDER: _signoff_reminder,
    DELIVERY_FAILED: _delivery_failed,
    Rule.CHECK_IN: lambda row, f, shared: ongoing.cadence_line(Rule.CHECK_IN, f),
    Rule.BUSINESS_REVIEW: lambda row, f, shared: ongoing.cadence_line(Rule.BUSINESS_REVIEW, f),
    Rule.RENEWAL: lambda row, f, shared: ongoing.cadence_line(Rule.RENEWAL, f),
    Rule.RENEWAL_RISK: lambda row, f, shared: ongoing.risk_line(f),
}


def line(row: Notification, templates: Templates = SHIPPED_TEMPLATES) -> str:
    """The notice in one mrkdwn line (or a few, for overviews); the post-go-live posts and the
    portfolio digest from `templates` (the team's, where it has its own)."""
    rule, shared = _rule(row), _for_customer(row)
    if shared and rule in INTERNAL_ONLY:
        raise InternalOnly(f"{row.rule} is for the vendor's team, not the customer")
    if rule in after_go_live_posts.RULES:
        return after_go_live_posts.line(templates, rule, row.subject, _facts(row))
    if rule is Rule.PORTFOLIO_DIGEST:
        return digest_text(_facts(row), templates)
    return LINES.get(rule, _own_text)(row, _facts(row), shared)


# -- controls -----------------------------------------------------------------------------------
# What a milestone post can offer, by the milestone's state, most useful first. A post offers only
# what its reader may do (the permission table, bot.milestones.permissions).
MILESTONE_ACTS = {
    MilestoneStatus.AWAITING_CONFIRMATION: (Act.CONFIRM, Act.REJECT),
    MilestoneStatus.BLOCKED: (Act.UNBLOCK,),
}
OPEN_ACTS = (Act.DONE, Act.BLOCK)
ACT_BUTTONS = {
    Act.DONE: ("Mark done", Action.MILESTONE_DONE, "primary"),
    Act.BLOCK: ("Mark blocked", Action.MILESTONE_BLOCK, None),
    Act.UNBLOCK: ("Unblock", Action.MILESTONE_UNBLOCK, None),
    Act.CONFIRM: ("Confirm", Action.MILESTONE_CONFIRM, "primary"),
    Act.REJECT: ("Not yet…", Action.MILESTONE_REJECT, None),
}


def reader(row: Notification) -> Standing | None:
    """Who the post's controls are for, as the permission table knows them; None: nobody can click.

    A direct message or an internal post speaks to someone of the vendor's team. In the shared
    channel a milestone's nudge speaks to its customer-side owner (the controls are theirs; anyone
    else pressing one is told whose it is), and an escalation to the sponsor, who may not own the
    milestone. A direct message to a customer carries no controls: a click from there is not taken.
    """
    audience = row.audience
    if audience in (Audience.DM, Audience.INTERNAL):
        return Standing.VENDOR_TEAM
    if audience == Audience.SHARED and _rule(row) in (Rule.DUE_SOON, Rule.OVERDUE):
        f = _facts(row)
        owner = f.get("customer_owner")
        return Standing.OWNER if owner and f.get("addressed") == owner else None
    return None


def milestone_acts(row: Notification) -> list[Act]:
    """The acts on its milestone this post offers its reader."""
    f, rule = _facts(row), _rule(row)
    who = reader(row)
    if rule not in MILESTONE_RULES or who is None or f.get("signoff"):
        return []  # the sign-off is given on its card, by the sponsor and then the CSM
    if rule == Rule.BLOCKED:
        wanted: tuple[Act, ...] = (Act.UNBLOCK,)  # an escalation is about what stands in the way
    else:
        try:
            status = MilestoneStatus(str(f.get("status") or MilestoneStatus.NOT_STARTED))
        except ValueError:
            return []
        wanted = MILESTONE_ACTS.get(status, OPEN_ACTS)
    return [act for act in wanted if permissions.refusal(act, who) is None]


def _milestone_buttons(row: Notification, f: dict[str, Any]) -> list[dict[str, Any]]:
    if not row.onboarding_id:
        return []
    acts = milestone_acts(row)
    if not acts:
        return []
    try:
        ref = MilestoneRef(row.onboarding_id, int(f["milestone_id"]), int(f["version"])).encode()
    except (KeyError, TypeError, ValueError):
        return []
    out = []
    for act in acts:
        text, action, style = ACT_BUTTONS[act]
        out.append(b.button(text, action, ref, style=style) if style else b.button(text, action, ref))
    return out


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
    """The actions block under a notice, or None when it has nothing its reader can click."""
    f, rule, ref = _facts(row), _rule(row), ref_of(row)
    who = reader(row)
    if who is None and row.audience != Audience.SHARED:
        return None
    elements = _milestone_buttons(row, f)
    vendor = who is Standing.VENDOR_TEAM
    if rule == Rule.VALUE_REPORT and vendor and row.onboarding_id:
        elements.append(after_go_live_posts.preview_button(row.onboarding_id))
    if (
        f.get("signoff")
        and vendor
        and f.get("card_channel")
        and f.get("signoff_state", "open") == "open"
        and rule in (Rule.DUE_SOON, Rule.OVERDUE)
    ):
        elements.append(b.button("Remind in the shared channel", Action.SIGNOFF_REMIND, ref.encode()))
    if (
        row.urgent
        and who is not None
        and vendor
        and rule != DELIVERY_FAILED
        and not permissions.refusal(Act.PICK_UP, who)
    ):
        elements.append(b.button("I'm on it", Action.ESCALATION_ACK, ref.encode(), style="primary"))
    snoozable = (
        rule in SNOOZABLE
        and not row.urgent
        and row.onboarding_id
        and who is not None
        and permissions.refusal(Act.SNOOZE, who) is None
        and (vendor or rule in MILESTONE_SNOOZES)
    )
    if snoozable:
        elements += _snooze_controls(ref)
    if not elements:
        return None
    # A datepicker has no value, so the snooze handler reads the notice from the block id.
    block_id = ref.encode() if snoozable else f"notice.{ref.encode()}"
    return b.actions(*elements, block_id=block_id[:255])


def _with_controls(
    row: Notification, prefix: str = "", templates: Templates = SHIPPED_TEMPLATES
) -> list[dict[str, Any]]:
    out = [b.section(prefix + line(row, templates))]
    actions = controls(row)
    if actions:
        out.append(actions)
    return out


# -- messages -----------------------------------------------------------------------------------
def _fallback(text: str) -> str:
    first = text.splitlines()[0] if text else "An onboarding update"
    return b.clip(first, FALLBACK_TEXT_MAX)


def render_notice(row: Notification, templates: Templates = SHIPPED_TEMPLATES) -> Message:
    blocks = _with_controls(row, templates=templates)
    rule, acts = _rule(row), milestone_acts(row)
    if rule == Rule.OVERDUE and Act.DONE in acts:
        blocks.insert(
            1, b.context("Done already? Mark it done. Something in the way? Mark it blocked and say what would help.")
        )
    elif rule == Rule.OVERDUE and Act.CONFIRM in acts:
        blocks.insert(1, b.context("Looks right to you? Confirm it. Not there yet? Say what is missing."))
    return Message(text=_fallback(line(row, templates)), blocks=blocks)


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


def render_digest(rows: Sequence[Notification], templates: Templates = SHIPPED_TEMPLATES) -> Message:
    lines = _one_per_reason(rows)
    shown, rest = lines[:DIGEST_LINES], lines[DIGEST_LINES:]
    count = _plural(len(lines), "thing")
    blocks: list[dict[str, Any]] = [b.header(_digest_heading(rows)), b.context(f"{count} for today, in one place.")]
    # A direct message can gather several customers: then each line says whose it is.
    several = len({r.onboarding_id for r in lines}) > 1
    for row in shown:
        prefix = f"*{_esc(_customer(row))}* · " if several and _customer(row) else ""
        blocks += _with_controls(row, prefix, templates)
    if rest:
        titles = ", ".join(_title(r, _facts(r)) for r in rest)
        blocks.append(b.section(f"…and {len(rest)} more: {titles}"))
    return Message(text=f"{_esc(_digest_heading(rows))}: {count}", blocks=blocks)


def render(rows: Sequence[Notification], templates: Templates = SHIPPED_TEMPLATES) -> Message:
    """The one message for rows going to one place together (the templates: the team's, where it has them)."""
    if not rows:
        raise ValueError("nothing to render")
    return render_notice(rows[0], templates) if len(rows) == 1 else render_digest(rows, templates)


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
