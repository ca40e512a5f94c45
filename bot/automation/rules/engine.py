"""One pass of the rules over the store at a given "now"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.automation import collector
from bot.automation.rules import cadence, candidates, escalations
from bot.automation.rules.after_go_live import after_go_live
from bot.automation.rules.due_dates import nudges
from bot.automation.rules.health_drop import health_drop, score_today
from bot.automation.rules.kickoff import recap_missing
from bot.automation.rules.portfolio_digest import PersonZone, portfolio_digests, their_zones
from bot.automation.rules.schedule import behind_schedule
from bot.automation.rules.silence import silent_account
from bot.automation.rules.weekly import overview
from bot.core.notices import Notice
from bot.planning.settings import DEFAULTS, RuleSettings
from store import snapshots
from store.db import second_reader

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

    from bot.planning.playbook import Playbook

SettingsFor = Callable[[str], RuleSettings]


def settings_from_playbooks(playbooks: Mapping[str, Playbook]) -> SettingsFor:
    """Each playbook's own settings (its [rules] table over the defaults, its go-live milestone as the
    sign-off); the defaults for an unknown key."""

    def settings_for(playbook_key: str) -> RuleSettings:
        playbook = playbooks.get(playbook_key)
        if playbook is None:
            return DEFAULTS
        if playbook.rules.signoff_milestone != DEFAULTS.signoff_milestone:
            return playbook.rules  # named in the playbook's [rules] table
        return replace(playbook.rules, signoff_milestone=playbook.go_live_milestone.key)

    return settings_for


def decide(
    session: Session,
    now: datetime,
    *,
    playbooks: Mapping[str, Playbook] | None = None,
    settings: SettingsFor | RuleSettings | None = None,
    person_zone: PersonZone | None = None,
    default_timezone: str | None = None,
) -> list[Notice]:
    """Every notice the rules call for at `now`, for every active onboarding, and each CSM manager's
    weekly portfolio digest (in their timezone: `person_zone(slack_user_id)`, else `default_timezone`,
    else their onboardings' timezone; bot.automation.rules.portfolio_digest).

    Settings come from `settings` (one RuleSettings for all, or a function of the playbook key), else
    from `playbooks`, else from the shipped playbooks. Escalation levels and today's health snapshots
    are written in `session`'s transaction; committing is the caller's.
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    settings_for = _resolver(playbooks, settings)
    session.flush()
    with collector.paused():
        return _decide(session.connection(), now, settings_for, person_zone, default_timezone)


def _decide(
    conn: Connection,
    now: datetime,
    settings_for: SettingsFor,
    person_zone: PersonZone | None,
    default_timezone: str | None,
) -> list[Notice]:
    sweep = candidates.load(conn, now, settings_for, second=second_reader(conn))
    zones = their_zones(sweep.accounts.values(), person_zone)  # before anything is written: it may ask Slack
    handed = cadence.load(conn)
    for row in handed:  # the handoff is written: the rules' "CSM" is the ongoing CSM from now on
        if (account := sweep.accounts.get(row.id)) is not None:
            account.handed_over = True
    notices = escalations.settle(conn, sweep)
    # today's scores that differ from the stored ones, and those of days with none stored yet
    moved: list[dict[str, Any]] = []
    fresh: list[dict[str, Any]] = []
    for account in sweep.accounts.values():
        health = score_today(account)
        if account.health_today != (health.score, health.parts):
            (moved if account.health_today is not None else fresh).append(
                {"onboarding_id": account.id, "day": account.local.today, "score": health.score, "parts": health.parts}
            )
        notices.extend(health_drop(account, health))
        notices.extend(nudges(account))
        notices.extend(behind_schedule(account))
        notices.extend(silent_account(account))
        notices.extend(recap_missing(account))
        notices.extend(overview(account))
    snapshots.save(conn, moved, fresh=fresh)
    notices.extend(cadence.account_cadence(conn, now, settings_for, handed))  # handed-off accounts
    notices.extend(after_go_live(conn, now, settings_for, handed))  # live and handed-off accounts
    notices.extend(
        portfolio_digests(conn, now, sweep.accounts.values(), zones=zones, default_timezone=default_timezone)
    )
    return notices


def _resolver(playbooks: Mapping[str, Playbook] | None, settings: SettingsFor | RuleSettings | None) -> SettingsFor:
    if isinstance(settings, RuleSettings):
        return lambda _key: settings
    if settings is not None:
        return settings
    if playbooks is None:
        from bot.planning.playbook import load_playbooks  # the playbook package imports this one's settings

        playbooks = load_playbooks()
    return settings_from_playbooks(playbooks)
