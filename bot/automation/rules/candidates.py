"""What the rules read, for every active onboarding at once, in a fixed number of set-based queries.

However many onboardings there are, one sweep reads: the active onboardings; their people; the
candidate milestones (open ones due within the nudge horizon or already overdue, blocked or awaiting
the customer, the kickoff recap, and those done since last week for the weekly overview); the
recap's dependencies; three queries of health signals; open escalations; running snoozes;
and the health snapshots of the comparison day and of today. The rules then decide in Python.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, null, or_, select, type_coerce
from sqlalchemy.engine import Connection

from bot.core.domain import MilestoneStatus, OnboardingStatus
from bot.automation.health import load_signals
from bot.automation.rules.account import Account, OpenEscalation
from bot.automation.rules.local_time import local_time_for
from bot.planning.settings import DEFAULTS, RuleSettings
from bot.automation.rules.snapshots import stored_on
from store.models import Escalation, Milestone, Onboarding, Person, Snooze

SettingsFor = Callable[[str], RuleSettings]

_O = Onboarding.__table__
_M = Milestone.__table__
_P = Person.__table__
_E = Escalation.__table__
_S = Snooze.__table__
_ACTIVE = _O.c.status == OnboardingStatus.ACTIVE.value
DONE = MilestoneStatus.DONE.value
BLOCKED = MilestoneStatus.BLOCKED.value
AWAITING = MilestoneStatus.AWAITING_CONFIRMATION.value


# Rows become named tuples: reading a field of one is many times cheaper than of a SQLAlchemy Row,
# and the rules read fields of about 100,000 rows per sweep.
OnboardingRow = namedtuple(
    "OnboardingRow",
    "id customer_name playbook_key timezone contract_signed_on target_go_live_on shared_channel_id "
    "internal_channel_id created_at",
)
PersonRow = namedtuple("PersonRow", "id onboarding_id side role name slack_user_id")
MilestoneRow = namedtuple(
    "MilestoneRow",
    "id onboarding_id key title stage status due_on completed_at customer_owner_id vendor_owner_id "
    "customer_owner_role vendor_owner_role blocked_since blocked_reason blocked_unblocker version "
    "snoozed depends_on",  # snoozed: the milestone's own snooze runs past now
)
KickoffRow = namedtuple("KickoffRow", "onboarding_id key status completed_at")


@dataclass
class Sweep:
    now: datetime
    accounts: dict[int, Account]


def load(conn: Connection, now: datetime, settings_for: SettingsFor) -> Sweep:
    accounts = _onboardings(conn, now, settings_for)
    if accounts:
        _people(conn, accounts)
        recap_keys = sorted({a.settings.kickoff_recap_milestone for a in accounts.values()})
        _milestones(conn, now, accounts, recap_keys)
        _recap_dependencies(conn, accounts, recap_keys)
        _signals(conn, now, accounts)
        attach_escalations(conn, accounts)
        _snoozes(conn, now, accounts)
        _health_snapshots(conn, accounts)
    return Sweep(now, accounts)


def _active(table) -> Any:
    return table.join(_O, _O.c.id == table.c.onboarding_id)


def _onboardings(conn: Connection, now: datetime, settings_for: SettingsFor) -> dict[int, Account]:
    query = select(*(_O.c[name] for name in OnboardingRow._fields)).where(_ACTIVE)
    settings: dict[str, RuleSettings] = {}
    accounts = {}
    for row in map(OnboardingRow._make, conn.execute(query).fetchall()):
        s = settings.get(row.playbook_key)
        if s is None:
            s = settings[row.playbook_key] = settings_for(row.playbook_key)
        accounts[row.id] = Account(row, s, local_time_for(now, row.timezone, s))
    return accounts


def _people(conn: Connection, accounts: dict[int, Account]) -> None:
    query = select(*(_P.c[name] for name in PersonRow._fields)).select_from(_active(_P)).where(_ACTIVE)
    for row in map(PersonRow._make, conn.execute(query).fetchall()):
        account = accounts.get(row.onboarding_id)
        if account is None:
            continue
        account.people[row.id] = row
        account.shown[row.id] = f"<@{row.slack_user_id}>" if row.slack_user_id else row.name
        first = account.roles.get(row.role)
        if first is None or row.id < first.id:
            account.roles[row.role] = row


def _horizon(accounts: dict[int, Account]) -> date:
    """The latest due date a due-soon nudge, or an overview said today, can mention."""
    latest = date.min
    for a in accounts.values():
        local, overview_day = a.local, a.settings.weekly_overview_day
        latest = max(latest, local.due_soon_end)
        if local.today.weekday() == overview_day:
            latest = max(latest, local.today + timedelta(days=6 - local.today.weekday()))
    return latest


def _done_since(accounts: dict[int, Account]) -> datetime | None:
    """Where completions for a weekly overview due today start: last week's Monday, with a day to spare."""
    mondays = [
        a.local.today - timedelta(days=a.local.today.weekday() + 7)
        for a in accounts.values()
        if a.local.today.weekday() == a.settings.weekly_overview_day
    ]
    if not mondays:
        return None
    return datetime.combine(min(mondays) - timedelta(days=1), time(0), tzinfo=UTC)


def _milestones(conn: Connection, now: datetime, accounts: dict[int, Account], recap_keys: list[str]) -> None:
    is_open = _M.c.status != DONE
    wanted = and_(
        is_open,
        or_(_M.c.due_on <= _horizon(accounts), _M.c.status.in_((BLOCKED, AWAITING)), _M.c.key.in_(recap_keys)),
    )
    done_since = _done_since(accounts)
    if done_since is not None:
        wanted = or_(wanted, and_(_M.c.status == DONE, _M.c.completed_at >= done_since))
    for row in map(MilestoneRow._make, conn.execute(candidate_query(wanted, recap_keys, now)).fetchall()):
        account = accounts.get(row.onboarding_id)
        if account is not None:
            account.milestones.append(row)
            if row.status == BLOCKED:
                account.blocked[row.key] = row


def candidate_query(wanted: Any, recap_keys: list[str], now: datetime) -> Any:
    snoozed = case((_M.c.snoozed_until > now, True), else_=False)
    depends_on = type_coerce(case((_M.c.key.in_(recap_keys), _M.c.depends_on), else_=null()), _M.c.depends_on.type)
    columns = [_M.c[name] for name in MilestoneRow._fields[:-2]]
    columns += [snoozed.label("snoozed"), depends_on.label("depends_on")]
    return (
        select(*columns)
        .select_from(_active(_M))
        .where(_ACTIVE, wanted)
    )


def _recap_dependencies(conn: Connection, accounts: dict[int, Account], recap_keys: list[str]) -> None:
    """Status and completion of what each open kickoff recap depends on (the kickoff itself)."""
    keys = {
        key
        for a in accounts.values()
        for m in a.milestones
        if m.key == a.settings.kickoff_recap_milestone and m.status != DONE
        for key in m.depends_on or ()
    }
    if not keys:
        return
    kick, recap = _M.alias("kick"), _M.alias("recap")
    # From the onboardings, so both milestones are found through the (onboarding, key) index.
    query = (
        select(kick.c.onboarding_id, kick.c.key, kick.c.status, kick.c.completed_at)
        .select_from(
            _O.join(
                recap,
                and_(recap.c.onboarding_id == _O.c.id, recap.c.key.in_(recap_keys), recap.c.status != DONE),
            ).join(kick, and_(kick.c.onboarding_id == _O.c.id, kick.c.key.in_(sorted(keys))))
        )
        .where(_ACTIVE)
    )
    for row in map(KickoffRow._make, conn.execute(query).fetchall()):
        if (account := accounts.get(row.onboarding_id)) is not None:
            account.kickoff[row.key] = row


def _signals(conn: Connection, now: datetime, accounts: dict[int, Account]) -> None:
    by_playbook = {a.onboarding.playbook_key: a.settings for a in accounts.values()}
    timezones = {a.onboarding.timezone for a in accounts.values()}
    for oid, signals in load_signals(conn, now, timezones, by_playbook, DEFAULTS).items():
        if (account := accounts.get(oid)) is not None:
            account.signals = signals


def attach_escalations(conn: Connection, accounts: dict[int, Account]) -> None:
    """The open escalations of every active onboarding, the latest per reason."""
    query = (
        select(
            _E.c.id, _E.c.onboarding_id, _E.c.rule, _E.c.subject, _E.c.opened_on, _E.c.level,
            _E.c.level_raised_at, _E.c.acknowledged_at,
        )  # fmt: skip
        .select_from(_active(_E))
        .where(_ACTIVE, _E.c.resolved_at.is_(None))
    )
    for account in accounts.values():
        account.escalations.clear()
    for eid, oid, rule, subject, opened_on, level, raised_at, acknowledged_at in conn.execute(query).fetchall():
        account = accounts.get(oid)
        if account is None:
            continue
        held = account.escalations.get((rule, subject))
        if held is None or (opened_on, eid) > (held.opened_on, held.id):
            account.escalations[(rule, subject)] = OpenEscalation(
                eid, rule, subject, opened_on, level, raised_at, acknowledged_at
            )


def _snoozes(conn: Connection, now: datetime, accounts: dict[int, Account]) -> None:
    query = (
        select(_S.c.onboarding_id, _S.c.rule, _S.c.subject, _S.c.until)
        .select_from(_active(_S))
        .where(_ACTIVE, _S.c.until > now)
    )
    for oid, rule, subject, until in conn.execute(query).fetchall():
        if (account := accounts.get(oid)) is not None:
            account.snoozes[(rule, subject)] = until


def _health_snapshots(conn: Connection, accounts: dict[int, Account]) -> None:
    """Each account's snapshot of the comparison day, and today's if this day already has one."""
    compared = {oid: a.local.today - timedelta(days=a.settings.health_compare_days) for oid, a in accounts.items()}
    found = stored_on(conn, {oid: (day, accounts[oid].local.today) for oid, day in compared.items()})
    for oid, a in accounts.items():
        a.previous_health = found.get((oid, compared[oid]))
        a.health_today = found.get((oid, a.local.today))
