"""The account cadence after the handoff, and the renewal-risk flags, for handed-off onboardings.

The anchor is the handoff meeting's day (the customer's timezone). Each reminder is a DM to the ongoing
CSM with the account's numbers (latest health score, latest ratings, open escalations), sent in the
customer's business hours, once (the outbox key: rule, subject, recipient, the due date):

- check_in (subject "check_in-<n>"): monthly for the first 6 months, levels 2-3; for level 3 the
  business review replaces the check-in of its month;
- business_review (subject "business_review-<n>"): quarterly, level 3, until the renewal;
- renewal (subject "renewal"): 90 days before the renewal date (60 for levels 1-2).

Each is said from its due date for `CADENCE_WINDOW_DAYS` (so a sweep that was down a few days still
says it, and a reminder months old is never dug up).

Renewal-risk flags (rule renewal_risk, DM to the ongoing CSM, as they appear):
- subject "escalations": at least `ESCALATIONS_FLAGGED` escalations opened in the last
  `ESCALATIONS_WINDOW_DAYS` days (period: the latest one's opening day, so each further one flags again);
- subject "champion_left" / "champion_changed": the champion left the shared channel, or the role
  went to someone else (audited as such; period: the day it happened);
- subject "slow-<review subject>": a check-in or business review not acted on `SLOW_REVIEW_DAYS`
  business days after its reminder, "acted on" meaning the ongoing CSM has done anything in the
  shared channel since the reminder's day (period: the review's due date);
- subject "usage_declining": the product's weekly active users over the last `USAGE_TREND_WEEKS`
  weeks fell from their peak by the playbook's `adoption_decline_percent` or more (the same
  classification as the adoption trend; period: the ISO week, so at most one flag a week while it lasts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from bot.automation.rules.local_time import LocalTime, local_time_for
from bot.core.domain import OnboardingStatus
from bot.core.notices import Audience, Notice, Rule
from bot.value.metrics import TrendKind, UsageDay, trend, weekly_series
from bot.value.usage import WEEKLY_ACTIVE
from store import account_handoffs as rows_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection

    from bot.planning.settings import RuleSettings

CHECK_IN_MONTHS = 6
CADENCE_WINDOW_DAYS = 14
RENEWAL_LEAD_DAYS = {1: 60, 2: 60, 3: 90}
ESCALATIONS_FLAGGED = 2
ESCALATIONS_WINDOW_DAYS = 90
SLOW_REVIEW_DAYS = 5
USAGE_TREND_WEEKS = 8
RATINGS_SHOWN = 3


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def schedule(level: int, anchor: date, renewal_on: date) -> list[tuple[Rule, str, date]]:
    """(rule, subject, due date) of every reminder of an account's cadence."""
    out: list[tuple[Rule, str, date]] = []
    reviews: set[int] = set()
    if level >= 3:
        n = 1
        while (due := add_months(anchor, 3 * n)) < renewal_on:
            out.append((Rule.BUSINESS_REVIEW, f"business_review-{n}", due))
            reviews.add(3 * n)
            n += 1
    if level >= 2:
        out += [
            (Rule.CHECK_IN, f"check_in-{m}", add_months(anchor, m))
            for m in range(1, CHECK_IN_MONTHS + 1)
            if m not in reviews
        ]
    lead = RENEWAL_LEAD_DAYS.get(level, RENEWAL_LEAD_DAYS[3])
    out.append((Rule.RENEWAL, "renewal", renewal_on - timedelta(days=lead)))
    return sorted(out, key=lambda r: r[2])


def load(conn: Connection) -> list[Any]:
    """Every onboarding with a stored handoff (one statement): the running ones, whose "CSM" is now the
    ongoing CSM, and the handed-off ones, whose cadence this module runs."""
    return rows_of.handed_over(conn)


def account_cadence(
    conn: Connection, now: datetime, settings_for: Callable[[str], RuleSettings], handed: list[Any]
) -> list[Notice]:
    accounts = [a for a in handed if a.status == OnboardingStatus.HANDED_OFF]
    if not accounts:
        return []
    ids = [a.id for a in accounts]
    since = (now - timedelta(days=ESCALATIONS_WINDOW_DAYS)).date()
    escalations: dict[int, list[Any]] = defaultdict(list)
    for e in rows_of.escalation_days(conn, ids, since):
        escalations[e.onboarding_id].append(e)
    ratings: dict[int, list[Any]] = defaultdict(list)
    for r in rows_of.ratings(conn, ids):
        ratings[r.onboarding_id].append(r)
    scores = {s.onboarding_id: s for s in rows_of.latest_scores(conn, ids)}
    acted = rows_of.last_vendor_activity(conn, ids)
    usage: dict[int, list[Any]] = defaultdict(list)
    usage_since = (now - timedelta(weeks=USAGE_TREND_WEEKS, days=1)).date()
    for u in rows_of.metric_since(conn, ids, WEEKLY_ACTIVE, usage_since):
        usage[u.onboarding_id].append(u)
    left: dict[int, list[Any]] = defaultdict(list)
    for row in rows_of.champions_left(conn, ids):
        left[row.onboarding_id].append(row)
    notices: list[Notice] = []
    for a in accounts:
        local = local_time_for(now, a.timezone, settings_for(a.playbook_key))
        numbers = _numbers(a, escalations[a.id], ratings[a.id], scores.get(a.id), since)
        notices += _reminders(a, local, numbers, acted)
        notices += _risks(a, local, escalations[a.id], since, left[a.id])
        notices += usage_declining(a, local, usage[a.id], settings_for(a.playbook_key))
    return notices


def _numbers(a: Any, escalations: list[Any], ratings: list[Any], score: Any, since: date) -> dict[str, Any]:
    return {
        "customer_name": a.customer_name,
        "health_score": score.score if score is not None else None,
        "health_day": score.day.isoformat() if score is not None else None,
        "ratings": [{"stage": r.stage, "score": r.score} for r in ratings[-RATINGS_SHOWN:]],
        "open_escalations": sum(1 for e in escalations if e.resolved_at is None),
        "renewal_on": a.renewal_on.isoformat(),
    }


def _notice(a: Any, local: LocalTime, rule: Rule, subject: str, period: str, facts: dict[str, Any], why: str) -> Notice:
    return Notice(
        rule=rule,
        onboarding_id=a.id,
        subject=subject,
        period=period,
        audience=Audience.DM,
        recipient=a.ongoing_csm_user_id,
        channel_id=None,
        not_before=local.opens,
        why=why,
        facts={**facts, "addressed": f"<@{a.ongoing_csm_user_id}>"},
    )


def _anchor(a: Any, local: LocalTime) -> date:
    return local.local_date(a.meeting_at)


def _reminders(
    a: Any, local: LocalTime, numbers: dict[str, Any], acted: dict[tuple[int, str], datetime]
) -> Iterator[Notice]:
    today = local.today
    for rule, subject, due in schedule(a.tier, _anchor(a, local), a.renewal_on):
        if due <= today < due + timedelta(days=CADENCE_WINDOW_DAYS):
            facts = {**numbers, "kind": rule.value, "due_on": due.isoformat(), "number": subject.rsplit("-", 1)[-1]}
            yield _notice(a, local, rule, subject, due.isoformat(), facts, f"{subject} due {due.isoformat()}")
        if rule is Rule.RENEWAL:
            continue
        slow_from = local.business_days_after(due, SLOW_REVIEW_DAYS)
        if slow_from <= today < due + timedelta(days=30):
            since = datetime.combine(due, time(0), tzinfo=local.zone).astimezone(UTC)
            last = acted.get((a.id, a.ongoing_csm_user_id))
            if last is None or last < since:
                facts = {**numbers, "signal": "slow_review", "review": rule.value, "due_on": due.isoformat(),
                         "business_days": SLOW_REVIEW_DAYS}  # fmt: skip
                why = f"{subject} not acted on {SLOW_REVIEW_DAYS} business days on"
                yield _notice(a, local, Rule.RENEWAL_RISK, f"slow-{subject}", due.isoformat(), facts, why)


def _risks(a: Any, local: LocalTime, escalations: list[Any], since: date, left: list[Any]) -> Iterator[Notice]:
    base = {"customer_name": a.customer_name, "renewal_on": a.renewal_on.isoformat()}
    recent = sorted(e.opened_on for e in escalations if e.opened_on >= since)
    if len(recent) >= ESCALATIONS_FLAGGED:
        facts = {**base, "signal": "escalations", "count": len(recent), "days": ESCALATIONS_WINDOW_DAYS}
        why = f"{len(recent)} escalations in {ESCALATIONS_WINDOW_DAYS} days"
        yield _notice(a, local, Rule.RENEWAL_RISK, "escalations", recent[-1].isoformat(), facts, why)
    for row in left:
        day = local.local_date(row.at)
        if day < local.today - timedelta(days=CADENCE_WINDOW_DAYS):
            continue
        signal = "champion_left" if row.action == rows_of.LEFT_CHANNEL else "champion_changed"
        facts = {**base, "signal": signal, "champion": f"<@{row.slack_user_id}>", "left_on": day.isoformat()}
        yield _notice(a, local, Rule.RENEWAL_RISK, signal, day.isoformat(), facts, signal.replace("_", " "))


def usage_declining(a: Any, local: LocalTime, usage: list[Any], settings: RuleSettings) -> Iterator[Notice]:
    """Weekly active users of the last weeks, classified like the adoption trend: declining flags it."""
    start = local.today - timedelta(weeks=USAGE_TREND_WEEKS)
    days = [UsageDay(u.day, weekly_active=u.value) for u in usage if start <= u.day <= local.today]
    found = trend(weekly_series(days, start, local.today), settings)
    if found.kind is not TrendKind.DECLINING:
        return
    year, week, _ = local.today.isocalendar()
    facts = {"customer_name": a.customer_name, "renewal_on": a.renewal_on.isoformat(), "signal": "usage_declining",
             "peak": found.peak, "last": found.last, "below_peak_percent": found.below_peak_percent,
             "weeks": USAGE_TREND_WEEKS}  # fmt: skip
    why = f"weekly active users {found.below_peak_percent}% below their peak"
    yield _notice(a, local, Rule.RENEWAL_RISK, "usage_declining", f"{year}-W{week:02d}", facts, why)
