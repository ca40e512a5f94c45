"""The rules engine: each rule firing and staying quiet, when and where it speaks, and what it costs.

Rows are written straight into the store; "now" is passed explicitly. The customer sits in
Europe/Berlin (UTC+2 in May 2026), so 07:00 UTC is 09:00 there. 2026-05-04 is a Monday.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlmodel import Session, col

from bot.automation.rules import DEFAULTS as DEFAULT_SETTINGS
from bot.automation.rules import RuleSettings, decide
from bot.core.domain import ITDependency
from bot.core.notices import Audience, Notice, Rule
from bot.onboarding.handoff import Contact, HandoffDraft
from bot.onboarding.start import create_onboarding
from bot.planning.playbook import load_playbooks
from bot.planning.timeline import plan_onboarding
from messages.automated_posts import render_notice
from store import outbox
from store.db import session_scope
from store.models import (
    ALL_TABLES,
    Activity,
    Escalation,
    HealthSnapshot,
    Milestone,
    Notification,
    Onboarding,
    Person,
    PostedCard,
    Snooze,
)

PLAYBOOKS = load_playbooks()
TZ = "Europe/Berlin"
SHARED, INTERNAL = "C0SHARED", "C0INTERNAL"
CSM, MANAGER, ESCALATION, AE = "U0CSM", "U0MANAGER", "U0ESCALATE", "U0AE"
SPONSOR, CHAMPION, PROJECT_OWNER = "U0SPONSOR", "U0CHAMPION", "U0OWNER"
MONDAY = date(2026, 5, 4)
# The rules the scheduler decides for running onboardings (not a person's request; the account
# cadence after the handoff is tested in tests/test_account_cadence.py, the post-go-live cadence in
# tests/test_after_go_live.py).
ACCOUNT_CADENCE = {Rule.CHECK_IN, Rule.BUSINESS_REVIEW, Rule.RENEWAL, Rule.RENEWAL_RISK}
AFTER_GO_LIVE = {
    Rule.POST_GO_LIVE_CHECK_IN, Rule.VALUE_REPORT, Rule.SUCCESS_STORY, Rule.EXPANSION_CONVERSATION,
    Rule.FIRST_BUSINESS_REVIEW, Rule.EXPANSION_READINESS, Rule.EXECUTIVE_SUMMARY, Rule.VALUE_PLAY,
}  # fmt: skip
SCHEDULED = set(Rule) - {Rule.SIGNOFF_REMINDER} - ACCOUNT_CADENCE - AFTER_GO_LIVE


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An instant given in Berlin local time (UTC+2 in May), as aware UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC) - timedelta(hours=2)


VENDOR_PEOPLE = (
    ("implementation_csm", "Casey CSM", CSM),
    ("csm_manager", "Morgan Manager", MANAGER),
    ("escalation_contact", "Eli Escalation", ESCALATION),
    ("account_executive", "Alex AE", AE),
)
CUSTOMER_PEOPLE = (
    ("economic_buyer", "Bea Buyer", None),
    ("executive_sponsor", "Sam Sponsor", SPONSOR),
    ("champion", "Chris Champion", CHAMPION),
    ("project_owner", "Pat Owner", PROJECT_OWNER),
    ("day_to_day_owner", "Dana Daily", None),
)


def _free_channel(s, channel: str) -> str:
    """The channel, or a sibling of it when another running onboarding has it (one per channel)."""
    running = col(Onboarding.status).in_(["active", "live"])
    taken = set(s.execute(select(Onboarding.shared_channel_id).where(running)).scalars())
    n = 1
    free = channel
    while free in taken:
        n += 1
        free = f"{channel}{n}"
    return free


def add_onboarding(
    s: Session,
    name: str = "Acme",
    *,
    status: str = "active",
    tz: str = TZ,
    playbook: str = "standard_30",
    shared: str | None = SHARED,
    internal: str | None = INTERNAL,
    target: date = date(2026, 6, 30),
    created_at: datetime | None = None,
    people: tuple = VENDOR_PEOPLE + CUSTOMER_PEOPLE,
) -> Onboarding:
    if shared is not None and status in ("active", "live"):
        shared = _free_channel(s, shared)
    ob = Onboarding(
        customer_name=name,
        status=status,
        tier=2,
        acv_cents=2_000_000,
        playbook_key=playbook,
        timezone=tz,
        contract_signed_on=date(2026, 4, 1),
        target_go_live_on=target,
        shared_channel_id=shared,
        internal_channel_id=internal,
        created_by=CSM,
        created_at=created_at or at(date(2026, 4, 1)),
    )
    s.add(ob)
    s.flush()
    for role, person_name, slack_id in people:
        side = "customer" if (role, person_name, slack_id) in CUSTOMER_PEOPLE else "vendor"
        s.add(Person(onboarding_id=ob.id, side=side, role=role, name=person_name, slack_user_id=slack_id))
    s.flush()
    return ob


def person_id(s: Session, ob: Onboarding, role: str) -> int | None:
    return s.exec(select(Person.id).where(Person.onboarding_id == ob.id, Person.role == role)).scalar()


def add_milestone(
    s: Session,
    ob: Onboarding,
    key: str,
    due_on: date,
    *,
    status: str = "in_progress",
    customer_owner: str = "project_owner",
    vendor_owner: str = "implementation_csm",
    stage: str = "setup",
    **extra: Any,
) -> Milestone:
    m = Milestone(
        onboarding_id=ob.id,
        stage=stage,
        key=key,
        title=f"{key.replace('_', ' ').title()} done",
        track="business",
        customer_owner_role=customer_owner,
        vendor_owner_role=vendor_owner,
        customer_owner_id=person_id(s, ob, customer_owner),
        vendor_owner_id=person_id(s, ob, vendor_owner),
        start_on=due_on - timedelta(days=3),
        due_on=due_on,
        status=status,
        **extra,
    )
    s.add(m)
    s.flush()
    return m


def customer_spoke(s: Session, ob: Onboarding, when: datetime, user: str = CHAMPION, n: int = 1) -> None:
    for i in range(n):
        s.add(
            Activity(
                onboarding_id=ob.id, slack_user_id=user, side="customer", kind="message", at=when - timedelta(minutes=i)
            )
        )
    s.flush()


def run(engine, now: datetime, **kw) -> list[Notice]:
    with session_scope(engine) as s:
        return decide(s, now, **kw)


def of(notices: list[Notice], rule: Rule, audience: Audience | None = None) -> list[Notice]:
    return [n for n in notices if n.rule is rule and (audience is None or n.audience is audience)]


def single(engine, build, now: datetime, rule: Rule, **kw) -> list[Notice]:
    with session_scope(engine) as s:
        build(s)
    return of(run(engine, now, **kw), rule)


# --- due soon -------------------------------------------------------------------------------------


def test_due_soon_nudges_the_customer_owner_in_the_shared_channel_and_the_vendor_owner_by_dm(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "sso_live", MONDAY + timedelta(days=2))  # Wednesday

    found = single(clean_db, build, at(MONDAY, 10), Rule.DUE_SOON)
    assert {(n.audience, n.recipient, n.channel_id) for n in found} == {
        (Audience.SHARED, SHARED, SHARED),
        (Audience.DM, CSM, None),
    }
    shared = next(n for n in found if n.audience is Audience.SHARED)
    assert shared.subject == "sso_live" and shared.period == "2026-05-06"
    assert shared.facts["addressed"] == f"<@{PROJECT_OWNER}>"
    for key in (
        "milestone_id",
        "version",
        "key",
        "title",
        "due_on",
        "stage",
        "customer_owner",
        "vendor_owner",
        "customer_name",
    ):
        assert key in shared.facts
    assert shared.facts["customer_owner"] == f"<@{PROJECT_OWNER}>" and shared.facts["vendor_owner"] == f"<@{CSM}>"
    assert shared.facts["due_on"] == "2026-05-06" and shared.facts["business_days_left"] == 2
    assert shared.not_before == at(MONDAY, 10)


def test_due_soon_counts_business_days_not_calendar_days(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "monday_thing", MONDAY + timedelta(days=7))  # next Monday

    thursday, wednesday = MONDAY + timedelta(days=3), MONDAY + timedelta(days=2)
    with session_scope(clean_db) as s:
        build(s)
    assert of(run(clean_db, at(wednesday)), Rule.DUE_SOON) == []
    assert len(of(run(clean_db, at(thursday)), Rule.DUE_SOON)) == 2  # Thursday: Fri, Mon


def test_due_soon_is_quiet_far_ahead_and_for_done_milestones(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "later", MONDAY + timedelta(days=10))
        add_milestone(s, ob, "finished", MONDAY + timedelta(days=1), status="done", completed_at=at(MONDAY, 8))

    assert single(clean_db, build, at(MONDAY), Rule.DUE_SOON) == []


def test_customer_owner_not_in_slack_is_named_and_missing_owner_is_blank(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "daily", MONDAY + timedelta(days=1), customer_owner="day_to_day_owner")
        add_milestone(s, ob, "nobody", MONDAY + timedelta(days=1), customer_owner="it_contact")

    found = {n.subject: n for n in single(clean_db, build, at(MONDAY), Rule.DUE_SOON) if n.audience is Audience.SHARED}
    assert found["daily"].facts["customer_owner"] == "Dana Daily"
    assert (
        found["nobody"].facts["customer_owner"] == "" and found["nobody"].facts["customer_owner_role"] == "it_contact"
    )


# --- business hours, weekends, timezones -------------------------------------------------------------


def test_outside_business_hours_waits_for_the_next_morning_in_the_customers_timezone(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "sso_live", MONDAY + timedelta(days=2))

    found = single(clean_db, build, at(MONDAY, 6, 30), Rule.DUE_SOON)  # 06:30 in Berlin
    assert found and {n.not_before for n in found} == {at(MONDAY, 9)}
    evening = of(run(clean_db, at(MONDAY, 18)), Rule.DUE_SOON)
    assert {n.not_before for n in evening} == {at(MONDAY + timedelta(days=1), 9)}
    assert {n.dedupe_key for n in evening} == {n.dedupe_key for n in found}


def test_weekend_waits_for_monday_morning(clean_db):
    saturday = MONDAY + timedelta(days=5)

    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "tuesday_thing", saturday + timedelta(days=3))

    found = single(clean_db, build, at(saturday, 11), Rule.DUE_SOON)
    assert found and {n.not_before for n in found} == {at(saturday + timedelta(days=2), 9)}


def test_business_hours_follow_the_customers_own_timezone(clean_db):
    def build(s):
        ob = add_onboarding(s, tz="America/New_York")  # UTC-4 in May
        add_milestone(s, ob, "sso_live", MONDAY + timedelta(days=2))

    now = datetime(2026, 5, 4, 11, 0, tzinfo=UTC)  # 07:00 in New York, 13:00 in Berlin
    found = single(clean_db, build, now, Rule.DUE_SOON)
    assert {n.not_before for n in found} == {datetime(2026, 5, 4, 13, 0, tzinfo=UTC)}


def test_overdue_is_daily_on_business_days_only_with_the_local_date_as_period(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "late", MONDAY - timedelta(days=3))

    first = single(clean_db, build, at(MONDAY, 8), Rule.OVERDUE)
    assert {n.period for n in first} == {"2026-05-04"}
    assert {n.not_before for n in first} == {at(MONDAY, 9)}
    shared = next(n for n in first if n.audience is Audience.SHARED)
    assert shared.facts["days_overdue"] == 3 and shared.facts["customer_owner"] == f"<@{PROJECT_OWNER}>"
    tuesday = of(run(clean_db, at(MONDAY + timedelta(days=1), 12)), Rule.OVERDUE)
    assert {n.period for n in tuesday} == {"2026-05-05"}
    assert not {n.dedupe_key for n in tuesday} & {n.dedupe_key for n in first}
    assert of(run(clean_db, at(MONDAY + timedelta(days=5), 12)), Rule.OVERDUE) == []  # Saturday
    assert of(run(clean_db, at(MONDAY, 17, 30)), Rule.OVERDUE) == []  # Monday's hours are over


def test_local_date_decides_the_period_across_midnight_utc(clean_db):
    def build(s):
        ob = add_onboarding(s, tz="Asia/Tokyo")  # UTC+9
        add_milestone(s, ob, "late", MONDAY - timedelta(days=3))

    now = datetime(2026, 5, 4, 23, 30, tzinfo=UTC)  # Tuesday 08:30 in Tokyo
    found = single(clean_db, build, now, Rule.OVERDUE)
    assert {n.period for n in found} == {"2026-05-05"}
    assert {n.not_before for n in found} == {datetime(2026, 5, 5, 0, 0, tzinfo=UTC)}


# --- snoozes, inactive onboardings, blocked ------------------------------------------------------------


def test_snooze_row_keeps_a_reason_quiet_until_it_ends(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "late", MONDAY - timedelta(days=3))
        add_milestone(s, ob, "other", MONDAY - timedelta(days=3))
        s.add(Snooze(onboarding_id=ob.id, rule="overdue", subject="late", until=at(MONDAY, 12), snoozed_by=CSM))

    found = single(clean_db, build, at(MONDAY, 10), Rule.OVERDUE)
    assert {n.subject for n in found} == {"other"}
    assert {n.subject for n in of(run(clean_db, at(MONDAY, 13)), Rule.OVERDUE)} == {"late", "other"}


def test_snooze_on_the_whole_rule_and_on_the_milestone(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "late", MONDAY - timedelta(days=3), snoozed_until=at(MONDAY, 12))
        add_milestone(s, ob, "soon", MONDAY + timedelta(days=1))
        other = add_onboarding(s, "Beta")
        add_milestone(s, other, "late", MONDAY - timedelta(days=3))
        s.add(Snooze(onboarding_id=other.id, rule="overdue", subject="", until=at(MONDAY, 12), snoozed_by=CSM))

    notices = single(clean_db, build, at(MONDAY, 10), Rule.OVERDUE)
    assert notices == []
    assert {n.subject for n in of(run(clean_db, at(MONDAY, 10)), Rule.DUE_SOON)} == {"soon"}


@pytest.mark.parametrize("status", ["handed_off", "cancelled"])
def test_nothing_for_onboardings_that_are_not_active(clean_db, status):
    with session_scope(clean_db) as s:
        ob = add_onboarding(s, status=status)
        add_milestone(s, ob, "late", MONDAY - timedelta(days=20))
        add_milestone(s, ob, "soon", MONDAY + timedelta(days=1))
        add_milestone(
            s, ob, "stuck", MONDAY + timedelta(days=10), status="blocked", blocked_since=MONDAY - timedelta(days=20)
        )
    assert run(clean_db, at(MONDAY)) == []
    with session_scope(clean_db) as s:
        assert s.exec(select(Escalation)).all() == [] and s.exec(select(HealthSnapshot)).all() == []


def test_an_unknown_timezone_is_read_as_utc_instead_of_stopping_the_sweep(clean_db):
    def build(s):
        ob = add_onboarding(s, tz="Mars/Olympus_Mons")
        add_milestone(
            s, ob, "late", MONDAY - timedelta(days=3), status="done", completed_at=at(MONDAY - timedelta(days=4))
        )
        add_milestone(s, ob, "soon", MONDAY + timedelta(days=1))
        add_onboarding(s, "Beta")

    found = single(clean_db, build, datetime(2026, 5, 4, 10, tzinfo=UTC), Rule.DUE_SOON)
    assert {n.not_before for n in found} == {datetime(2026, 5, 4, 10, tzinfo=UTC)}


def test_blocked_milestones_are_left_to_the_escalation_not_nudged(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(
            s, ob, "stuck", MONDAY - timedelta(days=2), status="blocked", blocked_since=MONDAY - timedelta(days=2)
        )

    notices = single(clean_db, build, at(MONDAY), Rule.OVERDUE)
    assert notices == []


# --- blocked escalation and climbing -------------------------------------------------------------------


def blocked_build(days: int):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(
            s,
            ob,
            "crm_connected",
            MONDAY + timedelta(days=10),
            status="blocked",
            blocked_since=MONDAY - timedelta(days=days),
            blocked_reason="Waiting for API credentials",
            blocked_unblocker="Pat Owner",
            customer_owner="project_owner",
        )

    return build


def escalations(engine) -> list[Escalation]:
    with session_scope(engine) as s:
        return list(s.exec(select(Escalation).order_by(Escalation.id)).scalars())


def test_blocked_seven_days_is_not_yet_escalated(clean_db):
    assert single(clean_db, blocked_build(7), at(MONDAY), Rule.BLOCKED) == []
    assert escalations(clean_db) == []


def test_blocked_more_than_seven_days_escalates_to_sponsor_and_the_csm_first(clean_db):
    found = single(clean_db, blocked_build(8), at(MONDAY), Rule.BLOCKED)
    [row] = escalations(clean_db)
    assert (row.rule, row.subject, row.opened_on, row.level) == ("blocked", "crm_connected", MONDAY, 0)
    shared = of(found, Rule.BLOCKED, Audience.SHARED)
    internal = of(found, Rule.BLOCKED, Audience.DM)
    assert len(shared) == 1 and len(internal) == 1 and len(found) == 2
    assert shared[0].recipient == SHARED and shared[0].period == f"escalation-{row.id}"
    assert shared[0].facts["addressed"] == f"<@{SPONSOR}>"
    assert shared[0].facts["unblock_call_hours"] == 48
    assert shared[0].facts["unblock_call_by"] == "2026-05-06T10:00:00+02:00"
    assert shared[0].facts["days_blocked"] == 8 and shared[0].facts["blocked_reason"] == "Waiting for API credentials"
    assert "level" not in shared[0].facts and "waiting_on" not in shared[0].facts
    i = internal[0]
    # the ladder starts with the CSM; the manager and the escalation contact come later, if nobody picks it up
    assert i.recipient == CSM and i.period == f"escalation-{row.id}-level-0" and i.urgent
    assert i.facts["addressed"] == f"<@{CSM}>" and i.facts["escalation_contact"] == f"<@{ESCALATION}>"
    assert i.facts["passed_over"] == []
    assert (i.facts["level"], i.facts["escalation_id"], i.facts["waiting_on"]) == (0, row.id, "customer")
    assert i.facts["unblocker"] == "Pat Owner" and i.facts["days_to_target"] == (date(2026, 6, 30) - MONDAY).days
    # said in the pass that opens it, with the write; a later pass neither reopens nor repeats it
    assert of(run(clean_db, at(MONDAY, 11)), Rule.BLOCKED) == []
    assert len(escalations(clean_db)) == 1


def test_unacknowledged_escalation_climbs_a_level_per_business_day(clean_db):
    single(clean_db, blocked_build(8), at(MONDAY, 10), Rule.BLOCKED)  # opened Monday 10:00
    assert escalations(clean_db)[0].level == 0
    assert of(run(clean_db, at(MONDAY + timedelta(days=1), 9, 59)), Rule.BLOCKED, Audience.DM) == []
    tuesday = at(MONDAY + timedelta(days=1), 10)
    climbed = of(run(clean_db, tuesday), Rule.BLOCKED, Audience.DM)
    [row] = escalations(clean_db)
    assert (row.level, row.level_raised_at) == (1, tuesday)
    assert [(n.recipient, n.period, n.urgent, n.facts["level"]) for n in climbed] == [
        (MANAGER, f"escalation-{row.id}-level-1", True, 1)
    ]
    assert climbed[0].facts["addressed"] == f"<@{MANAGER}>" and climbed[0].facts["level_role"] == "csm_manager"
    # it says who let it pass, and since when: true when said
    assert climbed[0].facts["passed_over"] == [f"<@{CSM}>"]
    assert climbed[0].facts["unanswered_since"] == "2026-05-04T10:00:00+02:00"
    wednesday = at(MONDAY + timedelta(days=2), 10)
    top = of(run(clean_db, wednesday), Rule.BLOCKED, Audience.DM)
    assert [n.recipient for n in top] == [ESCALATION]
    assert top[0].facts["passed_over"] == [f"<@{CSM}>", f"<@{MANAGER}>"]
    assert escalations(clean_db)[0].level == 2
    run(clean_db, at(MONDAY + timedelta(days=3), 10))
    assert escalations(clean_db)[0].level == 2  # the top level does not climb further


def test_climb_waits_over_the_weekend(clean_db):
    friday = MONDAY + timedelta(days=4)
    single(clean_db, blocked_build(12), at(friday, 15), Rule.BLOCKED)
    run(clean_db, at(friday + timedelta(days=1), 16))
    run(clean_db, at(friday + timedelta(days=3), 14, 59))  # Monday, before 15:00
    assert escalations(clean_db)[0].level == 0
    run(clean_db, at(friday + timedelta(days=3), 15))
    assert escalations(clean_db)[0].level == 1


def test_acknowledged_escalation_does_not_climb_or_speak(clean_db):
    single(clean_db, blocked_build(8), at(MONDAY, 10), Rule.BLOCKED)
    with session_scope(clean_db) as s:
        s.exec(update(Escalation).values(acknowledged_at=at(MONDAY, 11), acknowledged_by=CSM))
    assert of(run(clean_db, at(MONDAY + timedelta(days=3), 10)), Rule.BLOCKED) == []
    assert escalations(clean_db)[0].level == 0


def test_unblocking_resolves_the_escalation(clean_db):
    single(clean_db, blocked_build(8), at(MONDAY, 10), Rule.BLOCKED)
    with session_scope(clean_db) as s:
        s.exec(update(Milestone).values(status="in_progress", blocked_since=None))
    assert of(run(clean_db, at(MONDAY + timedelta(days=1), 10)), Rule.BLOCKED) == []
    [row] = escalations(clean_db)
    assert row.resolved_at == at(MONDAY + timedelta(days=1), 10) and row.level == 0


def test_snoozed_blocked_milestone_neither_opens_nor_climbs(clean_db):
    def build(s):
        blocked_build(8)(s)
        ob = s.exec(select(Onboarding)).scalar_one()
        s.add(
            Snooze(onboarding_id=ob.id, rule="blocked", subject="crm_connected", until=at(MONDAY, 12), snoozed_by=CSM)
        )

    assert single(clean_db, build, at(MONDAY, 10), Rule.BLOCKED) == []
    assert escalations(clean_db) == []
    assert len(of(run(clean_db, at(MONDAY, 13)), Rule.BLOCKED)) == 2


def test_without_an_escalation_contact_the_csm_still_hears_it(clean_db):
    def build(s):
        ob = add_onboarding(s, people=VENDOR_PEOPLE[:2] + CUSTOMER_PEOPLE[:1])  # no sponsor, no contact
        add_milestone(s, ob, "stuck", MONDAY, status="blocked", blocked_since=MONDAY - timedelta(days=9))

    found = single(clean_db, build, at(MONDAY), Rule.BLOCKED)
    shared = of(found, Rule.BLOCKED, Audience.SHARED)
    assert [n.facts["addressed"] for n in shared] == ["Bea Buyer"]  # the economic buyer stands in
    [internal] = of(found, Rule.BLOCKED, Audience.DM)
    assert internal.facts["escalation_contact"] == "" and internal.facts["addressed"] == f"<@{CSM}>"


# --- behind schedule -------------------------------------------------------------------------------------


def test_more_than_two_weeks_behind_tells_the_csm_manager(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "oldest", MONDAY - timedelta(days=15))
        add_milestone(s, ob, "newer", MONDAY - timedelta(days=3))
        add_milestone(
            s,
            ob,
            "done_long_ago",
            MONDAY - timedelta(days=40),
            status="done",
            completed_at=at(MONDAY - timedelta(days=41)),
        )

    [n] = single(clean_db, build, at(MONDAY), Rule.BEHIND_SCHEDULE)
    assert (n.audience, n.recipient, n.channel_id, n.subject, n.period) == (Audience.DM, MANAGER, None, "", "2026-W19")
    assert n.facts["days_behind"] == 15 and n.facts["earliest_open"]["key"] == "oldest"
    assert n.facts["economic_buyer"] == "Bea Buyer" and n.facts["projected_go_live_on"] == "2026-07-15"


@pytest.mark.parametrize(("projected", "fires"), [(date(2026, 7, 20), True), (date(2026, 7, 14), False)])
def test_a_projected_go_live_more_than_two_weeks_late_tells_the_csm_manager_with_that_date(clean_db, projected, fires):
    def build(s):
        ob = add_onboarding(s, target=date(2026, 6, 30))
        ob.projected_go_live_on = projected  # nothing is overdue yet: the forecast alone says it is late
        add_milestone(s, ob, "on_time", MONDAY + timedelta(days=3))

    found = single(clean_db, build, at(MONDAY), Rule.BEHIND_SCHEDULE)
    if not fires:  # 14 days late is at risk, not yet behind
        assert found == []
        return
    [n] = found
    assert n.facts["days_behind"] == 20 and n.facts["projected_go_live_on"] == "2026-07-20"


def test_two_weeks_behind_exactly_is_not_yet_behind(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "oldest", MONDAY - timedelta(days=14))

    assert single(clean_db, build, at(MONDAY), Rule.BEHIND_SCHEDULE) == []


# --- silent account ----------------------------------------------------------------------------------------


def test_silent_for_seven_days_alerts_the_csm_internally_then_goes_to_the_sponsor(clean_db):
    last = at(MONDAY - timedelta(days=7), 9)

    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "open_one", MONDAY + timedelta(days=20))
        customer_spoke(s, ob, last)
        s.add(Activity(onboarding_id=ob.id, slack_user_id=CSM, side="vendor", kind="message", at=at(MONDAY, 8)))

    [n] = single(clean_db, build, at(MONDAY, 10), Rule.SILENT_ACCOUNT)
    assert (n.audience, n.recipient, n.period) == (Audience.INTERNAL, INTERNAL, "2026-04-27+7d")
    assert n.facts["play"] == "confirm_project_owner" and n.facts["days_silent"] == 7
    assert n.facts["project_owner"] == f"<@{PROJECT_OWNER}>" and n.facts["addressed"] == f"<@{CSM}>"
    [later] = of(run(clean_db, at(MONDAY + timedelta(days=7), 10)), Rule.SILENT_ACCOUNT)
    assert later.period == "2026-04-27+14d" and later.facts["play"] == "contact_executive_sponsor"
    assert later.facts["executive_sponsor"] == f"<@{SPONSOR}>"


def test_not_silent_with_recent_customer_activity_or_nothing_open(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "open_one", MONDAY + timedelta(days=20))
        customer_spoke(s, ob, at(MONDAY - timedelta(days=6), 11))
        quiet = add_onboarding(s, "Done Co")
        add_milestone(
            s,
            quiet,
            "all_done",
            MONDAY - timedelta(days=20),
            status="done",
            completed_at=at(MONDAY - timedelta(days=20)),
        )

    assert single(clean_db, build, at(MONDAY, 10), Rule.SILENT_ACCOUNT) == []


def test_never_heard_from_counts_from_the_onboarding_start(clean_db):
    def build(s):
        ob = add_onboarding(s, created_at=at(MONDAY - timedelta(days=8)))
        add_milestone(s, ob, "open_one", MONDAY + timedelta(days=20))

    [n] = single(clean_db, build, at(MONDAY, 10), Rule.SILENT_ACCOUNT)
    assert n.facts["last_customer_activity_at"] is None and n.facts["days_silent"] == 8


# --- kickoff recap ----------------------------------------------------------------------------------------


def recap_build(kickoff_done: datetime | None, recap_status: str = "not_started"):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(
            s,
            ob,
            "kickoff_held",
            MONDAY,
            stage="kickoff",
            status="done" if kickoff_done else "in_progress",
            completed_at=kickoff_done,
        )
        add_milestone(
            s,
            ob,
            "kickoff_recap",
            MONDAY + timedelta(days=5),
            stage="kickoff",
            status=recap_status,
            depends_on=["kickoff_held"],
            completed_at=at(MONDAY, 12) if recap_status == "done" else None,
        )

    return build


def test_recap_missing_24_hours_after_the_kickoff_reminds_the_csm(clean_db):
    [n] = single(clean_db, recap_build(at(MONDAY, 11)), at(MONDAY + timedelta(days=1), 11), Rule.KICKOFF_RECAP_MISSING)
    assert (n.audience, n.recipient, n.subject, n.period) == (Audience.DM, CSM, "kickoff_recap", "2026-05-04")
    assert n.facts["hours_since_kickoff"] == 24 and n.facts["key"] == "kickoff_recap"


def test_recap_not_missing_within_24_hours_of_the_kickoff(clean_db):
    assert (
        single(clean_db, recap_build(at(MONDAY, 11)), at(MONDAY + timedelta(days=1), 10), Rule.KICKOFF_RECAP_MISSING)
        == []
    )


@pytest.mark.parametrize("build", [recap_build(at(MONDAY, 11), "done"), recap_build(None)])
def test_recap_quiet_when_done_or_kickoff_not_held(clean_db, build):
    assert single(clean_db, build, at(MONDAY + timedelta(days=2), 11), Rule.KICKOFF_RECAP_MISSING) == []


# --- weekly overview ---------------------------------------------------------------------------------------


def overview_build(s):
    ob = add_onboarding(s)
    add_milestone(
        s, ob, "done_last_week", MONDAY - timedelta(days=3), status="done", completed_at=at(MONDAY - timedelta(days=3))
    )
    add_milestone(
        s, ob, "done_long_ago", MONDAY - timedelta(days=20), status="done", completed_at=at(MONDAY - timedelta(days=20))
    )
    add_milestone(s, ob, "due_friday", MONDAY + timedelta(days=4))
    add_milestone(s, ob, "due_next_week", MONDAY + timedelta(days=8))
    add_milestone(
        s, ob, "stuck", MONDAY + timedelta(days=2), status="blocked", blocked_since=MONDAY - timedelta(days=1)
    )
    add_milestone(s, ob, "to_confirm", MONDAY + timedelta(days=1), status="awaiting_confirmation")


def test_weekly_overview_on_monday_in_the_shared_channel(clean_db):
    [n] = single(clean_db, overview_build, at(MONDAY, 7), Rule.WEEKLY_OVERVIEW)
    assert (n.audience, n.recipient, n.period, n.subject) == (Audience.SHARED, SHARED, "2026-W19", "")
    assert n.not_before == at(MONDAY, 9)
    keys = {
        name: [i["key"] for i in n.facts[name]]
        for name in ("done_last_week", "due_this_week", "blocked", "awaiting_customer")
    }
    assert keys == {
        "done_last_week": ["done_last_week"],
        "due_this_week": ["due_friday"],
        "blocked": ["stuck"],
        "awaiting_customer": ["to_confirm"],
    }
    assert n.facts["due_this_week"][0] == {
        "key": "due_friday",
        "title": "Due Friday done",
        "due_on": "2026-05-08",
        "owner": f"<@{PROJECT_OWNER}>",
    }


def test_weekly_overview_only_on_mondays(clean_db):
    assert single(clean_db, overview_build, at(MONDAY + timedelta(days=1)), Rule.WEEKLY_OVERVIEW) == []


# --- audience ------------------------------------------------------------------------------------------------

INTERNAL_WORDS = (
    "fault",
    "risk",
    "health",
    "behind",
    "silent",
    "silence",
    "escalat",
    "level",
    "manager",
    "concern",
    "politic",
    "ghost",
)


def test_shared_notices_carry_only_customer_fit_words(clean_db):
    def build(s):
        ob = add_onboarding(s, created_at=at(MONDAY - timedelta(days=30)))
        ob.concerns, ob.political_dynamics = "MARKER-CONCERN", "MARKER-POLITICS"
        add_milestone(s, ob, "late", MONDAY - timedelta(days=20))
        add_milestone(s, ob, "soon", MONDAY + timedelta(days=1))
        add_milestone(
            s,
            ob,
            "stuck",
            MONDAY + timedelta(days=3),
            status="blocked",
            blocked_since=MONDAY - timedelta(days=9),
            blocked_reason="Waiting on credentials",
            blocked_unblocker="Pat Owner",
        )
        add_milestone(
            s,
            ob,
            "kickoff_held",
            MONDAY - timedelta(days=25),
            stage="kickoff",
            status="done",
            completed_at=at(MONDAY - timedelta(days=25)),
        )
        add_milestone(s, ob, "kickoff_recap", MONDAY + timedelta(days=2), stage="kickoff", depends_on=["kickoff_held"])
        s.add(HealthSnapshot(onboarding_id=ob.id, day=MONDAY - timedelta(days=7), score=100, parts={}))

    with session_scope(clean_db) as s:
        build(s)
    notices = run(clean_db, at(MONDAY, 10))
    assert {n.rule for n in notices} == SCHEDULED  # every rule fired
    shared = [n for n in notices if n.audience is Audience.SHARED]
    assert {n.rule for n in shared} == {Rule.DUE_SOON, Rule.OVERDUE, Rule.BLOCKED, Rule.WEEKLY_OVERVIEW}
    for n in shared:
        said = (n.why + " " + json.dumps(list(_values(n.facts)))).lower()
        assert not [w for w in INTERNAL_WORDS if w in said], (n.rule, said)
        assert n.recipient == SHARED and n.channel_id == SHARED
    for n in notices:
        if n.rule in (Rule.BEHIND_SCHEDULE, Rule.SILENT_ACCOUNT, Rule.HEALTH_DROP, Rule.KICKOFF_RECAP_MISSING):
            assert n.audience in (Audience.INTERNAL, Audience.DM)


def _values(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)
    else:
        yield value


def test_internal_posts_fall_back_to_a_dm_without_an_internal_channel(clean_db):
    def build(s):
        ob = add_onboarding(s, internal=None, created_at=at(MONDAY - timedelta(days=10)))
        add_milestone(s, ob, "open_one", MONDAY + timedelta(days=20))

    [n] = single(clean_db, build, at(MONDAY), Rule.SILENT_ACCOUNT)
    assert (n.audience, n.recipient, n.channel_id) == (Audience.DM, CSM, None)


def test_no_shared_channel_means_no_customer_posts(clean_db):
    def build(s):
        ob = add_onboarding(s, shared=None)
        add_milestone(s, ob, "soon", MONDAY + timedelta(days=1))

    found = single(clean_db, build, at(MONDAY), Rule.DUE_SOON)
    assert [n.audience for n in found] == [Audience.DM]


# --- dedupe keys ---------------------------------------------------------------------------------------------


def test_due_soon_is_said_once_per_due_date_and_again_when_the_date_moves(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "sso_live", MONDAY + timedelta(days=2))

    first = single(clean_db, build, at(MONDAY, 10), Rule.DUE_SOON)
    second = of(run(clean_db, at(MONDAY + timedelta(days=1), 10)), Rule.DUE_SOON)
    assert {n.dedupe_key for n in first} == {n.dedupe_key for n in second}
    with session_scope(clean_db) as s:
        s.exec(update(Milestone).values(due_on=MONDAY + timedelta(days=3)))
    moved = of(run(clean_db, at(MONDAY + timedelta(days=1), 10)), Rule.DUE_SOON)
    assert {n.period for n in moved} == {"2026-05-07"}
    assert not {n.dedupe_key for n in moved} & {n.dedupe_key for n in first}


def test_weekly_and_behind_periods_are_iso_weeks(clean_db):
    def build(s):
        overview_build(s)
        ob = s.exec(select(Onboarding)).scalar_one()
        add_milestone(s, ob, "ancient", MONDAY - timedelta(days=30))

    found = single(clean_db, build, at(MONDAY, 10), Rule.WEEKLY_OVERVIEW)
    behind = of(run(clean_db, at(MONDAY + timedelta(days=2), 10)), Rule.BEHIND_SCHEDULE)
    assert {n.period for n in found + behind} == {"2026-W19"}
    next_week = of(run(clean_db, at(MONDAY + timedelta(days=7), 10)), Rule.WEEKLY_OVERVIEW)
    assert {n.period for n in next_week} == {"2026-W20"}


# --- settings per playbook -----------------------------------------------------------------------------------


def test_playbook_rules_table_overrides_the_defaults(clean_db, tmp_path):
    shipped = PLAYBOOKS["standard_30"].source
    text = Path(shipped).read_text(encoding="utf-8")
    text += (
        '\n[rules]\ndue_soon_business_days = 5\nblocked_days = 3\nbusiness_hours_start = "08:00"\n'
        'business_days = ["mon", "tue", "wed", "thu"]\n'
    )
    (tmp_path / "standard_30.toml").write_text(text)
    playbooks = load_playbooks(tmp_path)
    assert playbooks["standard_30"].rules.due_soon_business_days == 5
    assert playbooks["standard_60"].rules == RuleSettings()

    def build(s):
        ob = add_onboarding(s, playbook="standard_30")
        add_milestone(s, ob, "in_five", MONDAY + timedelta(days=7))
        add_milestone(
            s, ob, "stuck", MONDAY + timedelta(days=10), status="blocked", blocked_since=MONDAY - timedelta(days=4)
        )
        other = add_onboarding(s, "Beta", playbook="standard_60")
        add_milestone(s, other, "in_five", MONDAY + timedelta(days=7))
        add_milestone(
            s, other, "stuck", MONDAY + timedelta(days=10), status="blocked", blocked_since=MONDAY - timedelta(days=4)
        )

    with session_scope(clean_db) as s:
        build(s)
    notices = run(clean_db, at(MONDAY, 6, 30), playbooks=playbooks)
    acme = {n.rule for n in notices if n.facts.get("customer_name") == "Acme"}
    beta = {n.rule for n in notices if n.facts.get("customer_name") == "Beta"}
    assert Rule.DUE_SOON in acme and Rule.BLOCKED in acme
    assert Rule.DUE_SOON not in beta and Rule.BLOCKED not in beta
    assert {n.not_before for n in notices if n.facts.get("customer_name") == "Acme"} == {at(MONDAY, 8)}
    friday = MONDAY + timedelta(days=4)  # not a business day for Acme's playbook any more
    acme_friday = [
        n for n in run(clean_db, at(friday, 10), playbooks=playbooks) if n.facts.get("customer_name") == "Acme"
    ]
    assert acme_friday and {n.not_before for n in acme_friday} == {at(friday + timedelta(days=3), 8)}


def test_one_settings_object_for_everyone(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "in_four", MONDAY + timedelta(days=4))

    assert single(clean_db, build, at(MONDAY), Rule.DUE_SOON) == []
    assert of(run(clean_db, at(MONDAY), settings=RuleSettings(due_soon_business_days=4)), Rule.DUE_SOON)


# --- a realistic plan ---------------------------------------------------------------------------------------


def test_a_dated_plan_from_a_handoff_nudges_what_the_plan_says_is_due(clean_db):
    playbook = PLAYBOOKS["standard_30"]
    signed = date(2026, 4, 20)
    plan = plan_onboarding(playbook, signed, date(2026, 6, 30), [ITDependency.SSO])
    draft = HandoffDraft(
        customer_name="Acme",
        acv="20000",
        tier=2,
        playbook_key="standard_30",
        contract_signed=signed.isoformat(),
        target_go_live="2026-06-30",
        timezone=TZ,
        shared_channel_id=SHARED,
        internal_channel_id=INTERNAL,
        vendor={"implementation_csm": CSM, "csm_manager": MANAGER, "account_executive": AE},
        names={CSM: "Casey", MANAGER: "Morgan", AE: "Alex"},
        customer=[
            Contact(role="economic_buyer", name="Bea Buyer"),
            Contact(role="champion", name="Chris", slack_user_id=CHAMPION),
            Contact(role="project_owner", name="Pat", slack_user_id=PROJECT_OWNER),
        ],
        story={},
    )
    with session_scope(clean_db) as s:
        record = create_onboarding(s, draft, playbook, plan, actor=CSM, now=at(signed))
    now = at(MONDAY, 10)
    window = {MONDAY + timedelta(days=d) for d in range(3)}  # Mon..Wed: two business days ahead
    expected_soon = {m.key for m in record.milestones if m.due_on in window}
    expected_late = {m.key for m in record.milestones if m.due_on < MONDAY}
    notices = run(clean_db, now, playbooks=PLAYBOOKS)
    assert expected_soon and expected_late
    assert {n.subject for n in of(notices, Rule.DUE_SOON)} == expected_soon
    assert {n.subject for n in of(notices, Rule.OVERDUE)} == expected_late
    # a vendor-side role nobody holds (here the technical lead) falls back to the CSM
    vendor_owner = {
        m.key: getattr(record.person_by_id(m.vendor_owner_id), "slack_user_id", CSM) for m in record.milestones
    }
    for n in of(notices, Rule.DUE_SOON, Audience.DM) + of(notices, Rule.OVERDUE, Audience.DM):
        assert n.recipient == vendor_owner[n.subject]


def test_notices_made_by_the_engine_equal_notices_made_the_ordinary_way(clean_db):
    def build(s):
        ob = add_onboarding(s)
        add_milestone(s, ob, "sso_live", MONDAY + timedelta(days=2))

    [made, *_] = single(clean_db, build, at(MONDAY), Rule.DUE_SOON)
    ordinary = Notice(**{f.name: getattr(made, f.name) for f in dataclasses.fields(Notice) if f.init})
    assert made == ordinary and vars(made) == vars(ordinary)


# --- cost ------------------------------------------------------------------------------------------------------


def populate(s: Session, count: int) -> None:
    """`count` onboardings that between them make every rule fire and every kind of write happen."""
    for i in range(count):
        ob = add_onboarding(s, f"Customer {i}", created_at=at(MONDAY - timedelta(days=30)))
        add_milestone(s, ob, "late", MONDAY - timedelta(days=20))
        add_milestone(s, ob, "soon", MONDAY + timedelta(days=1))
        add_milestone(s, ob, "later", MONDAY + timedelta(days=30))
        add_milestone(
            s, ob, "stuck", MONDAY + timedelta(days=3), status="blocked", blocked_since=MONDAY - timedelta(days=9)
        )
        add_milestone(
            s, ob, "newly_stuck", MONDAY + timedelta(days=3), status="blocked", blocked_since=MONDAY - timedelta(days=8)
        )
        add_milestone(
            s,
            ob,
            "kickoff_held",
            MONDAY - timedelta(days=25),
            stage="kickoff",
            status="done",
            completed_at=at(MONDAY - timedelta(days=25)),
        )
        add_milestone(s, ob, "kickoff_recap", MONDAY + timedelta(days=2), stage="kickoff", depends_on=["kickoff_held"])
        add_milestone(
            s,
            ob,
            "done_last_week",
            MONDAY - timedelta(days=3),
            status="done",
            completed_at=at(MONDAY - timedelta(days=3)),
        )
        if i % 2:  # the others have been silent since they started
            customer_spoke(s, ob, at(MONDAY - timedelta(days=2)), user=SPONSOR)
        s.add(HealthSnapshot(onboarding_id=ob.id, day=MONDAY - timedelta(days=7), score=100, parts={}))
        for subject in ("stuck", "late"):  # one to climb, one whose milestone is no longer blocked
            s.add(
                Escalation(
                    onboarding_id=ob.id,
                    rule="blocked",
                    subject=subject,
                    opened_on=MONDAY - timedelta(days=3),
                    raised_at=at(MONDAY - timedelta(days=3)),
                    level_raised_at=at(MONDAY - timedelta(days=3)),
                )
            )
        s.add(Snooze(onboarding_id=ob.id, rule="due_soon", subject="later", until=at(MONDAY, 12), snoozed_by=CSM))


def statements(engine, now: datetime) -> tuple[list[str], list[Notice]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_scope(engine) as s:
            notices = decide(s, now, playbooks=PLAYBOOKS)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen, notices


def test_statement_count_does_not_grow_with_the_number_of_onboardings(clean_db):
    counts = []
    for n in (5, 50):
        with clean_db.begin() as conn:
            for table in reversed(ALL_TABLES):
                conn.execute(table.__table__.delete())
        with session_scope(clean_db) as s:
            populate(s, n)
        issued, notices = statements(clean_db, at(MONDAY, 10))
        assert {x.rule for x in notices} == SCHEDULED
        assert len({x.onboarding_id for x in notices}) == n
        counts.append(len(issued))
    postgresql = clean_db.dialect.name == "postgresql"
    pattern = r'(INSERT INTO|UPDATE|COPY) "?(?!bulk_)(\w+)'  # not the copies into a staging table
    writes = [m.groups() for sql in issued if (m := re.match(pattern, sql))]
    assert writes == [
        ("UPDATE", "escalations"),
        ("INSERT INTO", "escalations"),
        ("UPDATE", "escalations"),
        ("COPY" if postgresql else "INSERT INTO", "health_snapshots"),  # the day's first scores, copied straight in
    ]
    # PostgreSQL inserts new escalations through a temporary table (create it, COPY into it, insert
    # from it, empty it) and copies the day's first scores inside a savepoint (taken, released)
    staged, saved = (3, 2) if postgresql else (0, 0)
    # PostgreSQL also asks whether the sweep has written yet, before reading health signals aside
    asked = 1 if postgresql else 0
    # the running onboardings' reads and writes, and one look for onboardings that went live (none here)
    assert counts[0] == counts[1] == 23 + staged + saved + asked, counts


# --- the sign-off, after go-live, the health play -----------------------------------------------------


def test_signoff_reminders_go_to_the_sponsor_in_private_and_to_the_csm_never_to_the_shared_channel(clean_db):
    def build(s):
        ob = add_onboarding(s)
        ob.stage = "go_live"
        signoff = add_milestone(
            s, ob, "go_live_signed", MONDAY - timedelta(days=3), customer_owner="executive_sponsor", stage="go_live"
        )
        add_milestone(s, ob, "review_booked", MONDAY - timedelta(days=3), customer_owner="executive_sponsor")
        s.add(PostedCard(onboarding_id=ob.id, kind="signoff", channel_id=SHARED, ts="1777900000.000100"))
        assert signoff.key == DEFAULT_SETTINGS.signoff_milestone

    notices = single(clean_db, build, at(MONDAY), Rule.OVERDUE, playbooks=PLAYBOOKS)
    signoff = [n for n in notices if n.subject == "go_live_signed"]
    assert {(n.audience, n.recipient) for n in signoff} == {(Audience.CUSTOMER_DM, SPONSOR), (Audience.DM, CSM)}
    for n in signoff:
        assert n.facts["signoff"] is True and n.facts["sponsor_reminded"] is True
        assert (n.facts["card_channel"], n.facts["card_ts"]) == (SHARED, "1777900000.000100")
    # any other milestone the sponsor owns is nudged as before
    assert Audience.SHARED in {n.audience for n in notices if n.subject == "review_booked"}


@pytest.mark.parametrize(
    ("stage", "open_work", "signed", "state"),
    [
        ("training", False, False, "waiting"),  # the go-live stage hasn't started: there is no card to sign
        ("go_live", True, False, "waiting"),  # the acceptance test is still open
        ("go_live", False, True, "countersign"),  # the sponsor signed; the CSM's countersignature is left
    ],
)
def test_the_sponsor_is_reminded_only_while_the_sign_off_is_theirs_to_give(clean_db, stage, open_work, signed, state):
    def build(s):
        ob = add_onboarding(s)
        ob.stage = stage
        if signed:
            ob.sponsor_signed_at, ob.sponsor_signed_by = at(MONDAY) - timedelta(days=1), SPONSOR
        add_milestone(
            s, ob, "go_live_signed", MONDAY - timedelta(days=2), customer_owner="executive_sponsor", stage="go_live"
        )
        if open_work:
            add_milestone(s, ob, "uat_passed", MONDAY - timedelta(days=4), stage="go_live")
        s.add(PostedCard(onboarding_id=ob.id, kind="signoff", channel_id=SHARED, ts="1777900000.000100"))

    notices = single(clean_db, build, at(MONDAY), Rule.OVERDUE, playbooks=PLAYBOOKS)
    [n] = [n for n in notices if n.subject == "go_live_signed"]
    assert (n.audience, n.recipient) == (Audience.DM, CSM)
    assert (n.facts["signoff_state"], n.facts["sponsor_reminded"]) == (state, False)
    posted = render_notice(Notification(**outbox.row_values(n), id=1))
    words = json.dumps(posted.blocks)
    assert ("haven't reminded" in words) if state == "waiting" else ("countersignature" in words)
    assert "Remind in the shared channel" not in words


def test_a_sponsor_not_in_slack_is_not_reminded_and_the_csm_is_told(clean_db):
    people = (*VENDOR_PEOPLE, ("executive_sponsor", "Sam Sponsor", None), *CUSTOMER_PEOPLE[2:])

    def build(s):
        ob = add_onboarding(s, people=people)
        ob.stage = "go_live"
        add_milestone(
            s, ob, "go_live_signed", MONDAY + timedelta(days=1), customer_owner="executive_sponsor", stage="go_live"
        )

    [n] = single(clean_db, build, at(MONDAY), Rule.DUE_SOON, playbooks=PLAYBOOKS)
    assert (n.audience, n.recipient, n.facts["sponsor_reminded"], n.facts["sponsor"]) == (
        Audience.DM,
        CSM,
        False,
        "Sam Sponsor",
    )


def test_a_live_onboarding_keeps_its_nudges_and_monday_overview_through_adoption(clean_db):
    def build(s):
        ob = add_onboarding(s, status="live")
        add_milestone(s, ob, "check_in_30_day", MONDAY + timedelta(days=1), stage="adoption")
        add_milestone(s, ob, "handoff_done", MONDAY - timedelta(days=2), stage="adoption")

    with session_scope(clean_db) as s:
        build(s)
    notices = run(clean_db, at(MONDAY))
    assert {n.subject for n in of(notices, Rule.DUE_SOON)} == {"check_in_30_day"}
    assert {n.subject for n in of(notices, Rule.OVERDUE)} == {"handoff_done"}
    [overview] = of(notices, Rule.WEEKLY_OVERVIEW)
    assert [i["key"] for i in overview.facts["due_this_week"]] == ["check_in_30_day"]


def test_a_health_drop_names_the_part_to_act_on(clean_db):
    def build(s):
        ob = add_onboarding(s, created_at=at(MONDAY - timedelta(days=30)))
        add_milestone(s, ob, "open", MONDAY + timedelta(days=20))
        before = {
            "usage": {"score": 100, "weight": 40},
            "progress": {"score": 100, "weight": 40},
            "sponsor": {"score": 100, "weight": 20},
        }
        s.add(HealthSnapshot(onboarding_id=ob.id, day=MONDAY - timedelta(days=7), score=100, parts=before))

    found = single(clean_db, build, at(MONDAY), Rule.HEALTH_DROP)
    assert found and {n.facts["play"] for n in found} == {"usage"}  # no activity: usage fell the most (0 of 40)
