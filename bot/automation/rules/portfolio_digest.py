"""The weekly portfolio digest: each CSM manager hears by DM, on Monday morning in their own timezone,
what changed last week across the onboardings of their team.

Who: every person in Slack named CSM manager on a running onboarding; one digest covers all of theirs.
Their timezone is the one Slack has for them (`person_zone`: users.info's tz, looked up by the
runtime), else `default_timezone` (the ONBOARD_DEFAULT_TIMEZONE setting the runtime passes), else,
when no default is given at all, the timezone most of their onboardings share.

When: decided on each business day of their ISO week from `weekly_overview_day` (Monday) on, to go
out once their business hours open (the default business calendar, in their timezone); said once
per ISO week (period "2026-W19"). The outbox row is filed under the team's first onboarding (the
lowest id; a row needs one), and a digest already written for the week, under whichever
onboarding, is never decided again. It is a digest like the others: it joins whatever else reaches
the manager in the same sweep, and when their digest of the day already went out (bot.runtime.sweep,
counting the day in the manager's timezone) it waits for the next business day, about the same week.

What: the previous ISO week, Monday 00:00 to Monday 00:00 in the manager's timezone: onboardings that
went live, moved stage, became at risk or behind (against the schedules the previous digest
recorded; with no previous digest, every one at risk or behind is new to the manager), escalations
opened and closed, and ratings of `LOW_SCORE` or less. Reading it costs one statement when every
manager had this week's digest already, four otherwise, whatever the number of onboardings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.automation.rules.account import Account
from bot.automation.rules.local_time import LocalTime, local_time_for
from bot.core.calendar import zone_of
from bot.core.domain import Role
from bot.core.notices import Audience, Notice, Rule
from bot.milestones.forecast import schedule_now
from bot.onboarding.voice import LOW_SCORE
from bot.planning.settings import DEFAULTS
from store import week_changes

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

PersonZone = Callable[[str], str | None]
WORSE = ("at_risk", "behind")
LISTS = ("went_live", "moved_stage", "newly_at_risk", "newly_behind", "escalations_opened",
         "escalations_closed", "low_ratings")  # fmt: skip


@dataclass
class Team:
    manager: str  # their Slack user id
    local: LocalTime
    accounts: list[Account] = field(default_factory=list)

    @property
    def since(self) -> datetime:
        return self.local.last_week_starts

    @property
    def until(self) -> datetime:
        return self.local.week_starts


def _known(tz: str | None) -> str | None:
    """The timezone when it is a known IANA name, else None."""
    return tz if tz and zone_of(tz).key == tz else None


def _team_zone(accounts: list[Account]) -> str:
    zones = Counter(a.onboarding.timezone for a in accounts)
    return _known(max(sorted(zones), key=lambda tz: zones[tz])) or "UTC"


def managers_of(accounts: Iterable[Account]) -> dict[str, list[Account]]:
    """Each CSM manager in Slack (by user id) with the running onboardings that name them, by id."""
    found: dict[str, list[Account]] = {}
    for account in accounts:
        manager = account.person(Role.CSM_MANAGER.value)
        if manager is not None and manager.slack_user_id and manager.side == "vendor":
            found.setdefault(manager.slack_user_id, []).append(account)
    return {m: sorted(theirs, key=lambda a: a.id) for m, theirs in found.items()}


def their_zones(accounts: Iterable[Account], person_zone: PersonZone | None) -> dict[str, str | None]:
    """Each manager's own timezone as `person_zone` knows it (asked before the sweep writes anything,
    since it may ask Slack)."""
    return {m: person_zone(m) for m in managers_of(accounts)} if person_zone else {}


def teams_due(
    accounts: Iterable[Account], now: datetime, zones: Mapping[str, str | None], default_timezone: str | None
) -> dict[str, Team]:
    """The managers whose digest may be decided today (a business day of theirs, Monday on), with their teams."""
    teams: dict[str, Team] = {}
    for manager, theirs in managers_of(accounts).items():
        tz = _known(zones.get(manager)) or _known(default_timezone) or _team_zone(theirs)
        local = local_time_for(now, tz, DEFAULTS)
        day = local.today.weekday()
        if day >= DEFAULTS.weekly_overview_day and day in DEFAULTS.business_days:
            teams[manager] = Team(manager, local, theirs)
    return teams


def portfolio_digests(
    conn: Connection,
    now: datetime,
    accounts: Iterable[Account],
    *,
    zones: Mapping[str, str | None] | None = None,
    default_timezone: str | None = None,
) -> list[Notice]:
    teams = teams_due(accounts, now, zones or {}, default_timezone)
    if not teams:
        return []
    written: set[str] = set()  # said this week already (under whichever onboarding)
    before: dict[str, dict[str, str]] = {}  # how each team stood in the latest digest of an earlier week
    for row in week_changes.digests_since(conn, Rule.PORTFOLIO_DIGEST.value, sorted(teams), now - timedelta(days=35)):
        payload = row.payload or {}
        if payload.get("period") == teams[row.recipient].local.week:
            written.add(row.recipient)
        elif isinstance(schedules := (payload.get("facts") or {}).get("schedules"), dict):
            before[row.recipient] = schedules
    teams = {m: t for m, t in teams.items() if m not in written}
    if not teams:
        return []
    since = min(t.since for t in teams.values())
    until = max(t.until for t in teams.values())
    # every running onboarding's changes: each team then reads only its own onboardings'
    moves = week_changes.stage_moves(conn, since, until)
    escalations = week_changes.escalation_changes(conn, since, until)
    low = week_changes.low_ratings(conn, since, until, at_most=LOW_SCORE)
    moves_of, escalations_of, low_of = _by_onboarding(moves), _by_onboarding(escalations), _by_onboarding(low)
    return [
        _digest(
            t,
            _of_team(t, moves_of),
            _of_team(t, escalations_of),
            _of_team(t, low_of),
            before.get(t.manager),
        )
        for t in teams.values()
    ]


def _by_onboarding(rows: list[Any]) -> dict[int, list[tuple[int, Any]]]:
    """Each onboarding's rows with their place in the list, so a team reads only its own."""
    found: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for place, row in enumerate(rows):
        found[row.onboarding_id].append((place, row))
    return found


def _of_team(team: Team, rows_of: Mapping[int, list[tuple[int, Any]]]) -> list[Any]:
    """The rows of the team's onboardings, in the order they were read."""
    return [row for _, row in sorted(p for oid in {a.id for a in team.accounts} for p in rows_of.get(oid, ()))]


def _within(team: Team, at: datetime | None) -> bool:
    return at is not None and team.since <= at < team.until


def _line(account: Account, **more: Any) -> dict[str, Any]:
    ob = account.onboarding
    return {"customer_name": ob.customer_name, "channel": ob.shared_channel_id or ""} | more


def _digest(
    team: Team,
    moves: list[week_changes.StageMove],
    escalations: list[week_changes.EscalationChange],
    low: list[week_changes.LowRating],
    before: dict[str, str] | None,
) -> Notice:
    local = team.local
    mine = {a.id: a for a in sorted(team.accounts, key=lambda a: (a.onboarding.customer_name.lower(), a.id))}
    monday = local.today - timedelta(days=local.today.weekday())
    last_monday = monday - timedelta(days=7)
    lists: dict[str, list[dict[str, Any]]] = {name: [] for name in LISTS}
    schedules: dict[str, str] = {}
    counts = {"on_track": 0, "at_risk": 0, "behind": 0, "live": 0}
    for oid, account in mine.items():
        ob = account.onboarding
        # judged on the customer's calendar, as the App Home and the rules judge it
        schedule = schedule_now(ob, account.local.today).value
        schedules[str(oid)] = schedule
        counts[schedule] = counts.get(schedule, 0) + 1
        if ob.went_live_on is not None and _went_live_between(ob.went_live_on, last_monday, monday):
            lists["went_live"].append(_line(account, on=ob.went_live_on.isoformat()))
        was = (before or {}).get(str(oid))
        if schedule in WORSE and was != schedule:
            lists[f"newly_{schedule}"].append(_line(account, was=was or ""))
    for m in moves:
        if m.onboarding_id in mine and _within(team, m.at):
            lists["moved_stage"].append(_line(mine[m.onboarding_id], **{"from": m.old or "", "to": m.new or ""}))
    for e in escalations:
        if e.onboarding_id in mine:
            if _within(team, e.raised_at):
                lists["escalations_opened"].append(_line(mine[e.onboarding_id], rule=e.rule, subject=e.subject))
            if _within(team, e.resolved_at):
                lists["escalations_closed"].append(_line(mine[e.onboarding_id], rule=e.rule, subject=e.subject))
    for r in low:
        if r.onboarding_id in mine and _within(team, r.updated_at):
            lists["low_ratings"].append(_line(mine[r.onboarding_id], stage=r.stage, score=r.score))
    facts: dict[str, Any] = {
        "addressed": f"<@{team.manager}>",
        "week": local.week,
        "week_of": monday.isoformat(),
        "since": last_monday.isoformat(),
        "timezone": local.zone.key,
        "onboardings": len(mine),
        **counts,
        **lists,
        "compared": before is not None,
        "schedules": schedules,
    }
    why = "portfolio digest: " + ", ".join(f"{len(lists[name])} {name.replace('_', ' ')}" for name in LISTS)
    return Notice(
        rule=Rule.PORTFOLIO_DIGEST,
        onboarding_id=team.accounts[0].id,
        subject="",
        period=local.week,
        audience=Audience.DM,
        recipient=team.manager,
        channel_id=None,
        not_before=local.opens,
        why=why,
        facts=facts,
        zone=local.zone.key,
    )


def _went_live_between(day: date, start: date, end: date) -> bool:
    return start <= day < end
