"""What the rules read, for every active onboarding at once, in a fixed number of set-based queries.

However many onboardings there are, one sweep reads: the active onboardings; their people; the
candidate milestones (open ones due within the nudge horizon or already overdue, blocked or awaiting
the customer, the kickoff recap, and those done since last week for the weekly overview); the
recap's dependencies; three queries of health signals; open escalations; running snoozes;
the health snapshots of the comparison day and of today; and, when a blocked or sign-off milestone
is among the candidates, where the stage and sign-off cards are (for links). The queries are the store's
(store.candidates, store.signals, store.escalations, store.snapshots); this module decides what to
ask for and assembles each onboarding's rows into an `Account`. The rules then decide in Python.

With a second reader (`store.db.second_reader`: PostgreSQL, before the sweep has written anything),
the health signals, which the server aggregates over every milestone and activity row, are read on a
connection of their own while this one reads and assembles the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.automation.health import load_signals
from bot.automation.rules.account import Account, OpenEscalation
from bot.automation.rules.local_time import local_time_for
from bot.core.effects import CardKind
from bot.planning.settings import DEFAULTS, RuleSettings
from store import candidates as rows_of
from store import escalations as stored_escalations
from store import snapshots
from store.candidates import BLOCKED, DONE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from bot.automation.health import Signals

SettingsFor = Callable[[str], RuleSettings]
STAGE_CARD, SIGNOFF_CARD = CardKind.STAGE.value, CardKind.SIGNOFF.value


@dataclass
class Sweep:
    now: datetime
    accounts: dict[int, Account]


def load(conn: Connection, now: datetime, settings_for: SettingsFor, *, second: Engine | None = None) -> Sweep:
    """Every running onboarding's `Account`; with `second`, the health signals are read on a
    connection of that engine meanwhile (see the module's docstring)."""
    accounts = _onboardings(conn, now, settings_for)
    if not accounts:
        return Sweep(now, accounts)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep-signals") as aside:
        asked = _signals_asked(accounts)
        signals = aside.submit(_signals_on, second, now, *asked) if second is not None else None
        _people(conn, accounts)
        recap_keys = sorted({a.settings.kickoff_recap_milestone for a in accounts.values()})
        _milestones(conn, now, accounts, recap_keys)
        _recap_dependencies(conn, accounts, recap_keys)
        _attach_signals(accounts, load_signals(conn, now, *asked) if signals is None else signals.result())
        attach_escalations(conn, accounts)
        _snoozes(conn, now, accounts)
        _health_snapshots(conn, accounts)
        _cards(conn, accounts)
    return Sweep(now, accounts)


def _onboardings(conn: Connection, now: datetime, settings_for: SettingsFor) -> dict[int, Account]:
    settings: dict[str, RuleSettings] = {}
    accounts = {}
    for row in rows_of.onboardings(conn):
        s = settings.get(row.playbook_key)
        if s is None:
            s = settings[row.playbook_key] = settings_for(row.playbook_key)
        accounts[row.id] = Account(row, s, local_time_for(now, row.timezone, s))
    return accounts


def _people(conn: Connection, accounts: dict[int, Account]) -> None:
    for row in rows_of.people(conn):
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
    for row in rows_of.milestones(conn, now, _horizon(accounts), recap_keys, _done_since(accounts)):
        account = accounts.get(row.onboarding_id)
        if account is not None:
            account.milestones.append(row)
            if row.status == BLOCKED:
                account.blocked[row.key] = row


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
    for row in rows_of.recap_dependencies(conn, recap_keys, sorted(keys)):
        if (account := accounts.get(row.onboarding_id)) is not None:
            account.kickoff[row.key] = row


def _signals_asked(accounts: dict[int, Account]) -> tuple[set[str], dict[str, RuleSettings], RuleSettings]:
    """What `load_signals` is asked for: the timezones, each playbook's settings, the defaults."""
    by_playbook = {a.onboarding.playbook_key: a.settings for a in accounts.values()}
    return {a.onboarding.timezone for a in accounts.values()}, by_playbook, DEFAULTS


def _signals_on(
    engine: Engine, now: datetime, timezones: set[str], by_playbook: dict[str, RuleSettings], default: RuleSettings
) -> dict[int, Signals]:
    with engine.connect() as conn:
        return load_signals(conn, now, timezones, by_playbook, default)


def _attach_signals(accounts: dict[int, Account], found: dict[int, Signals]) -> None:
    for oid, signals in found.items():
        if (account := accounts.get(oid)) is not None:
            account.signals = signals


def attach_escalations(conn: Connection, accounts: dict[int, Account]) -> None:
    """The open escalations of every active onboarding, the latest per reason."""
    for each in accounts.values():
        each.escalations.clear()
    for eid, oid, rule, subject, opened_on, level, raised_at, acknowledged_at in stored_escalations.open_escalations(
        conn
    ):
        account = accounts.get(oid)
        if account is None:
            continue
        held = account.escalations.get((rule, subject))
        if held is None or (opened_on, eid) > (held.opened_on, held.id):
            account.escalations[(rule, subject)] = OpenEscalation(
                eid, rule, subject, opened_on, level, raised_at, acknowledged_at
            )


def _cards(conn: Connection, accounts: dict[int, Account]) -> None:
    """Where the stage and sign-off cards are, when some post today links to one: a blocked milestone's
    escalation links to its stage card, a sign-off reminder to the sign-off card."""
    if not any(
        a.blocked or any(m.key == a.settings.signoff_milestone for m in a.milestones) for a in accounts.values()
    ):
        return
    for row in rows_of.cards(conn, (STAGE_CARD, SIGNOFF_CARD)):
        if (account := accounts.get(row.onboarding_id)) is not None:
            account.cards[(row.kind, row.subject)] = (row.channel_id, row.ts)


def _snoozes(conn: Connection, now: datetime, accounts: dict[int, Account]) -> None:
    for oid, rule, subject, until in rows_of.running_snoozes(conn, now):
        if (account := accounts.get(oid)) is not None:
            account.snoozes[(rule, subject)] = until


def _health_snapshots(conn: Connection, accounts: dict[int, Account]) -> None:
    """Each account's snapshot of the comparison day, and today's if this day already has one."""
    compared = {oid: a.local.today - timedelta(days=a.settings.health_compare_days) for oid, a in accounts.items()}
    found = snapshots.stored_on(conn, {oid: (day, accounts[oid].local.today) for oid, day in compared.items()})
    for oid, a in accounts.items():
        a.previous_health = found.get((oid, compared[oid]))
        a.health_today = found.get((oid, a.local.today))
