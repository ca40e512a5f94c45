"""After go-live: the counter-cadence against the adoption cliff, and the adoption plays.

The anchor is the onboarding's actual go-live day (`went_live_on`, written when the go-live is
signed off). Weeks are counted from the start the way the typical adoption curve is, with the
go-live as week `go_live_week` (6): week 7 is a week after the go-live, week 13 seven weeks after.
Every onboarding that went live is read, running ("live") or handed off; each reminder is said once
(the outbox key: rule, subject, recipient, its due date; and what the CSM heard before the handoff
is not said again to the ongoing CSM), from its due day for `cadence.CADENCE_WINDOW_DAYS`, in the
customer's business hours:

- post_go_live_check_in: `post_go_live_check_in_days` after go-live, DM to the CSM with the numbers;
- value_report (week `value_report_week`): DM to the CSM with a button that opens the value
  report's preview (`/onboard report`'s). The report goes to the customer's channel, so the CSM
  reads it before it does: the numbers may call for a word of context, and the preview's "Edit
  text" lets them write it; a report posted blind by a timer is not what a CS team wants its
  customer to see first. The chart goes out with the report through the upload flow;
- success_story (week `success_story_week`), expansion_conversation (week
  `expansion_conversation_week`), expansion_readiness (week `expansion_readiness_week`): DM to the
  CSM, internal only; the two expansion prompts wait while adoption declines (the intervention
  comes first), and go if it recovers within their window;
- business_review (week `business_review_week`, the first monthly business review): DM to the CSM
  with the numbers;
- executive_summary (subject "executive_summary-<n>", monthly after go-live for
  `executive_summary_months` months): the shared channel and a DM to the executive sponsor (when in
  Slack), in words fit for the customer: milestones reached, what comes next, and one value outcome
  against the success criteria captured at the handoff. No health score, no risk, no plays.

"The CSM" is the implementation CSM until the handoff to the ongoing CSM is written or the
onboarding is completed, the ongoing CSM after that (`Account.person`; the stored handoff names
them when there is one). The
account cadence (bot.automation.rules.cadence) already checks in with a handed-off account monthly
and reviews it quarterly; so that nobody hears of two check-ins in the same fortnight, the
post-go-live check-in and business review are left out when the account cadence has a check-in or
business review due within `CADENCE_WINDOW_DAYS` of them. The other reminders have no counterpart
there and always go.

Plays (rule value_play, DM to the CSM, period the ISO week: at most once a week while it lasts),
from week `value_play_from_week` until the expansion-readiness week, on the weekly active users of
the last `value_play_trend_weeks` weeks since go-live, classified like the adoption trend
(bot.value.metrics.trend): flat starts the value-demonstration play (subject
"value_demonstration"), declining the intervention play (subject "intervention").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from bot.automation.rules import cadence
from bot.automation.rules.account import Account, Route
from bot.automation.rules.facts import display
from bot.automation.rules.local_time import local_time_for
from bot.core.domain import MilestoneStatus, OnboardingStatus, Role
from bot.core.notices import Audience, Notice, Rule
from bot.value.metrics import TrendKind, UsageDay, activation, by_day, trend, weekly_series
from bot.value.usage import SEATS, WEEKLY_ACTIVE
from store import after_go_live as rows_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.engine import Connection

    from bot.planning.settings import RuleSettings

DONE = MilestoneStatus.DONE.value
PLAYS = {TrendKind.FLAT: "value_demonstration", TrendKind.DECLINING: "intervention"}
MILESTONES_SHOWN = 3
# The reminders that have a counterpart in the account cadence after the handoff.
ACCOUNT_CADENCE_TWINS = frozenset({Rule.POST_GO_LIVE_CHECK_IN, Rule.FIRST_BUSINESS_REVIEW})
# Not while adoption declines: the intervention comes first.
EXPANSION = frozenset({Rule.EXPANSION_CONVERSATION, Rule.EXPANSION_READINESS})
TO_THE_TEAM = tuple(r.value for r in (
    Rule.POST_GO_LIVE_CHECK_IN, Rule.VALUE_REPORT, Rule.SUCCESS_STORY, Rule.EXPANSION_CONVERSATION,
    Rule.FIRST_BUSINESS_REVIEW, Rule.EXPANSION_READINESS, Rule.VALUE_PLAY,
))  # fmt: skip


@dataclass(frozen=True)
class Due:
    rule: Rule
    subject: str
    on: date


def after_week(went_live_on: date, week: int, settings: RuleSettings) -> date:
    """The first day of week `week` from the start, the go-live being week `go_live_week`."""
    return went_live_on + timedelta(weeks=week - settings.go_live_week)


def schedule(went_live_on: date, settings: RuleSettings) -> list[Due]:
    """Every reminder of the post-go-live cadence, by due date."""
    s = settings
    out = [
        Due(Rule.POST_GO_LIVE_CHECK_IN, "check_in", went_live_on + timedelta(days=s.post_go_live_check_in_days)),
        Due(Rule.VALUE_REPORT, "value_report", after_week(went_live_on, s.value_report_week, s)),
        Due(Rule.SUCCESS_STORY, "success_story", after_week(went_live_on, s.success_story_week, s)),
        Due(Rule.EXPANSION_CONVERSATION, "expansion_conversation",
            after_week(went_live_on, s.expansion_conversation_week, s)),
        Due(Rule.FIRST_BUSINESS_REVIEW, "business_review", after_week(went_live_on, s.business_review_week, s)),
        Due(Rule.EXPANSION_READINESS, "expansion_readiness", after_week(went_live_on, s.expansion_readiness_week, s)),
    ]  # fmt: skip
    out += [
        Due(Rule.EXECUTIVE_SUMMARY, f"executive_summary-{n}", cadence.add_months(went_live_on, n))
        for n in range(1, s.executive_summary_months + 1)
    ]
    return sorted(out, key=lambda d: (d.on, d.subject))


def after_go_live(
    conn: Connection, now: datetime, settings_for: Callable[[str], RuleSettings], handed: list[Any]
) -> list[Notice]:
    """Every post-go-live notice due at `now` (`handed`: the stored handoffs, cadence.load's rows)."""
    live = rows_of.went_live(conn)
    if not live:
        return []
    ids = [row.id for row in live]
    people: dict[int, list[Any]] = defaultdict(list)
    for p in rows_of.people(conn, ids):
        people[p.onboarding_id].append(p)
    milestones: dict[int, list[Any]] = defaultdict(list)
    for m in rows_of.milestones(conn, ids):
        milestones[m.onboarding_id].append(m)
    usage: dict[int, list[tuple[date, str, int]]] = defaultdict(list)
    # seats are reported rarely: read from the earliest go-live (weekly counts are one row a week or a day)
    since = min(row.went_live_on for row in live) - timedelta(days=7)
    for u in rows_of.counts(conn, ids, (WEEKLY_ACTIVE, SEATS), since):
        usage[u.onboarding_id].append((u.day, u.metric, u.value))
    handoffs = {row.id: row for row in handed}
    # Said to the team already, to whoever was "the CSM" then: the handoff does not make it new.
    said: dict[int, set[tuple[str, str, str]]] = defaultdict(set)
    for r in rows_of.said_since(conn, ids, TO_THE_TEAM, now - timedelta(days=cadence.CADENCE_WINDOW_DAYS + 1)):
        if r.audience in (Audience.DM, Audience.INTERNAL):
            said[r.onboarding_id].add((r.rule, r.subject, r.dedupe_key.rsplit(":", 1)[-1]))
    notices: list[Notice] = []
    for row in live:
        settings = settings_for(row.playbook_key)
        account = Account(row, settings, local_time_for(now, row.timezone, settings))
        for p in people[row.id]:
            account.people[p.id] = p
            account.shown[p.id] = display(p)
            account.roles.setdefault(p.role, p)
        # handed over: the handoff is written, or the onboarding was completed (to its named ongoing CSM)
        account.handed_over = row.id in handoffs or row.status == OnboardingStatus.HANDED_OFF
        found = _Found(account, milestones[row.id], by_day(usage[row.id]), handoffs.get(row.id), said[row.id])
        notices += found.reminders()
        notices += found.plays()
    return notices


@dataclass
class _Found:
    account: Account
    milestones: list[Any]
    usage: list[UsageDay]
    handoff: Any  # the stored handoff to the ongoing CSM, or None
    said: set[tuple[str, str, str]]  # (rule, subject, period) already said to the team

    @property
    def went_live_on(self) -> date:
        return self.account.onboarding.went_live_on

    def csm_route(self) -> tuple[Route | None, str]:
        """Where "the CSM" hears it, and how they are shown."""
        csm = self.account.person(Role.IMPLEMENTATION_CSM)
        if (
            self.handoff is not None
            and self.handoff.ongoing_csm_user_id
            and (csm is None or csm.slack_user_id != self.handoff.ongoing_csm_user_id)
        ):
            user = self.handoff.ongoing_csm_user_id
            return (Audience.DM, user, None), f"<@{user}>"
        return self.account.dm(csm), display(csm)

    def numbers(self) -> dict[str, Any]:
        today = self.account.local.today
        s = self.account.settings
        seen = activation(self.usage, today, since=self.went_live_on)
        found = self.trend()
        done = [m for m in self.milestones if m.status == DONE]
        return {
            "customer_name": self.account.onboarding.customer_name,
            "went_live_on": self.went_live_on.isoformat(),
            "weeks_live": (today - self.went_live_on).days // 7,
            "active": seen.active if seen else None,
            "seats": seen.seats if seen else None,
            "activation_percent": seen.percent if seen else None,
            "activation_target_percent": s.activation_target_percent,
            "trend": found.kind.value,
            "trend_change_percent": found.change_percent,
            "below_peak_percent": found.below_peak_percent,
            "peak": found.peak,
            "last": found.last,
            "milestones_done": len(done),
            "milestones_open": len(self.milestones) - len(done),
            "success_criteria": self.account.onboarding.success_criteria or "",
        }

    def trend(self) -> Any:
        points = weekly_series(self.usage, self.went_live_on, self.account.local.today)
        return trend(points[-self.account.settings.value_play_trend_weeks :], self.account.settings)

    def _twinned(self, due: Due) -> bool:
        """An account-cadence check-in or review falls within the window of this one."""
        if due.rule not in ACCOUNT_CADENCE_TWINS or self.handoff is None:
            return False
        local = self.account.local
        anchor = local.local_date(self.handoff.meeting_at)
        window = timedelta(days=cadence.CADENCE_WINDOW_DAYS)
        return any(
            abs(on - due.on) < window
            for rule, _subject, on in cadence.schedule(self.account.onboarding.tier, anchor, self.handoff.renewal_on)
            if rule in (Rule.CHECK_IN, Rule.BUSINESS_REVIEW)
        )

    def reminders(self) -> Iterator[Notice]:
        account = self.account
        today = account.local.today
        window = timedelta(days=cadence.CADENCE_WINDOW_DAYS)
        numbers: dict[str, Any] | None = None
        for due in schedule(self.went_live_on, account.settings):
            if not (due.on <= today < due.on + window) or self._twinned(due):
                continue
            numbers = numbers if numbers is not None else self.numbers()
            if due.rule in EXPANSION and numbers["trend"] == TrendKind.DECLINING.value:
                continue
            said = {**numbers, "due_on": due.on.isoformat(), "kind": due.rule.value}
            why = f"{due.subject.replace('_', ' ')} due {due.on.isoformat()}"
            if due.rule is Rule.EXECUTIVE_SUMMARY:
                yield from self._summary(due, said, why)
                continue
            route, shown = self.csm_route()
            if route is not None and (due.rule.value, due.subject, due.on.isoformat()) not in self.said:
                yield account.notice(
                    due.rule, due.subject, due.on.isoformat(), route, {**said, "addressed": shown}, why
                )

    def _summary(self, due: Due, said: dict[str, Any], why: str) -> Iterator[Notice]:
        account = self.account
        facts = {
            "customer_name": said["customer_name"],
            "due_on": said["due_on"],
            "month": due.subject.rsplit("-", 1)[-1],
            "went_live_on": said["went_live_on"],
            "reached": [m.title for m in self.milestones if m.status == DONE][-MILESTONES_SHOWN:],
            "reached_count": said["milestones_done"],
            "next": [m.title for m in self.milestones if m.status != DONE][:MILESTONES_SHOWN],
            "next_review_on": self._next_review(),
            "success_criteria": said["success_criteria"],
            "active": said["active"],
            "seats": said["seats"],
            "activation_percent": said["activation_percent"],
            "trend": said["trend"],
            "trend_change_percent": said["trend_change_percent"],
        }
        sponsor = account.person(Role.EXECUTIVE_SPONSOR)
        for route, addressed in (
            (account.shared(), display(sponsor)),
            (account.customer_dm(sponsor), display(sponsor)),
        ):
            if route is not None:
                yield account.notice(
                    due.rule, due.subject, due.on.isoformat(), route, {**facts, "addressed": addressed}, why
                )

    def _next_review(self) -> str | None:
        today = self.account.local.today
        ahead = [
            d.on
            for d in schedule(self.went_live_on, self.account.settings)
            if d.rule is Rule.FIRST_BUSINESS_REVIEW and d.on > today
        ]
        return ahead[0].isoformat() if ahead else None

    def plays(self) -> Iterator[Notice]:
        account = self.account
        s, today = account.settings, account.local.today
        starts = after_week(self.went_live_on, s.value_play_from_week, s)
        ends = after_week(self.went_live_on, s.expansion_readiness_week, s)
        if not starts <= today < ends:
            return
        found = self.trend()
        play = PLAYS.get(found.kind)
        if play is None:
            return
        route, shown = self.csm_route()
        if route is None or (Rule.VALUE_PLAY.value, play, account.local.week) in self.said:
            return
        said = {**self.numbers(), "play": play, "weeks": s.value_play_trend_weeks, "addressed": shown}
        why = f"adoption {found.kind.value}: the {play.replace('_', '-')} play"
        yield account.notice(Rule.VALUE_PLAY, play, account.local.week, route, said, why)
