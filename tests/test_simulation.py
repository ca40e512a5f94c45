"""Sixty days of two onboardings, swept every hour of simulated time, with scripted customers.

A level-2 (30-day) and a level-3 (90-day) onboarding start on Monday 4 May 2026 in New York. Every
milestone is finished on its due day at 11:00, except: one level-2 milestone finishes three business
days late, one level-3 milestone is blocked for 9 days and nobody acknowledges its escalation, and
the level-2 customer goes silent for a week. The customer's people otherwise speak every business
morning.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import update
from sqlmodel import select

from bot.automation.rules import decide
from bot.core.calendar import add_business_days
from bot.onboarding.handoff import Contact, HandoffDraft
from bot.onboarding.start import create_onboarding
from bot.planning.timeline import plan_onboarding
from bot.runtime.sweep import run_sweep
from store.activity import record_activity
from store.db import session_scope
from store.models import Escalation, Milestone, Notification
from tests.conftest import (
    CUSTOMER_CHAMPION,
    CUSTOMER_SPONSOR,
    INTERNAL_CHANNEL,
    SHARED_CHANNEL,
    VENDOR_AE,
    VENDOR_CSM,
    VENDOR_MANAGER,
)
from tests.test_outbox import ManualClock

NEW_YORK = ZoneInfo("America/New_York")
EXPECTED = Path(__file__).with_name("data") / "simulation_posts.txt"
START = date(2026, 5, 4)  # a Monday
DAYS = 60
LATE_KEY = "first_data_imported"
SILENT_WEEK = (START + timedelta(days=21), START + timedelta(days=28))


def _draft(name: str, tier: int, shared: str, internal: str) -> HandoffDraft:
    return HandoffDraft(
        customer_name=name,
        acv="40000" if tier == 2 else "90000",
        tier=tier,
        contract_signed=START.isoformat(),
        target_go_live=(START + timedelta(days=45 if tier == 2 else 95)).isoformat(),
        timezone="America/New_York",
        it_dependencies=["sso"],
        shared_channel_id=shared,
        internal_channel_id=internal,
        vendor={
            "implementation_csm": VENDOR_CSM,
            "account_executive": VENDOR_AE,
            "csm_manager": VENDOR_MANAGER,
            "technical_lead": VENDOR_AE,
            "escalation_contact": VENDOR_MANAGER,
        },
        names={VENDOR_CSM: "Casey", VENDOR_AE: "Alex", VENDOR_MANAGER: "Morgan"},
        customer=[
            Contact(role="economic_buyer", name="Sam Sponsor", slack_user_id=CUSTOMER_SPONSOR),
            Contact(role="executive_sponsor", name="Sam Sponsor", slack_user_id=CUSTOMER_SPONSOR),
            Contact(role="champion", name="Chris Customer", slack_user_id=CUSTOMER_CHAMPION),
            Contact(
                role="project_owner",
                name="Chris Customer",
                slack_user_id=CUSTOMER_CHAMPION,
                has_capacity=True,
                has_authority=True,
            ),
            Contact(role="day_to_day_owner", name="Chris Customer", slack_user_id=CUSTOMER_CHAMPION),
            Contact(role="it_contact", name="Chris Customer", slack_user_id=CUSTOMER_CHAMPION),
        ],
        story={
            "sold": "Growth plan",
            "success_criteria": "Weekly plans built in the product",
            "first_value_definition": "First team live",
            "full_value_definition": "Everyone live",
        },
    )


def _local(d: date, hour: int) -> datetime:
    return datetime.combine(d, time(hour), NEW_YORK).astimezone(UTC)


@pytest.fixture
def world(harness):
    harness.fake.add_channel(
        "C0SHARED3",
        name="globex-onboarding",
        is_ext_shared=True,
        members=(VENDOR_CSM, CUSTOMER_CHAMPION, CUSTOMER_SPONSOR),
    )
    harness.fake.add_channel("C0INTERNAL3", name="globex-internal", members=(VENDOR_CSM, VENDOR_MANAGER))
    playbooks = harness.services.playbooks
    made = {}
    created_at = _local(START, 9)
    with session_scope(harness.engine) as s:
        for tier, key, name, shared, internal in (
            (2, "standard_30", "Acme", SHARED_CHANNEL, INTERNAL_CHANNEL),
            (3, "enterprise_90", "Globex", "C0SHARED3", "C0INTERNAL3"),
        ):
            draft = _draft(name, tier, shared, internal)
            plan = plan_onboarding(playbooks[key], START, draft.target_go_live_on, it_in_scope=["sso"])
            made[tier] = create_onboarding(s, draft, playbooks[key], plan, actor=VENDOR_CSM, now=created_at)
    level3_it = next(m for m in made[3].milestones if m.track == "it")
    return made, level3_it


def _script(engine, made, blocked_milestone, now: datetime) -> None:
    """What people did during the hour before `now`."""
    local = now.astimezone(NEW_YORK)
    today, hour = local.date(), local.hour
    with session_scope(engine) as s:
        if hour == 10 and today.weekday() < 5:
            for tier, record in made.items():
                silent = tier == 2 and SILENT_WEEK[0] <= today < SILENT_WEEK[1]
                if not silent:
                    record_activity(
                        s,
                        onboarding_id=record.onboarding.id,
                        slack_user_id=CUSTOMER_CHAMPION,
                        side="customer",
                        kind="message",
                        at=now - timedelta(minutes=5),
                    )
        if hour == 11:
            blocked_from = blocked_milestone.start_on
            if today == blocked_from:
                s.execute(
                    update(Milestone)
                    .where(Milestone.id == blocked_milestone.id)
                    .values(
                        status="blocked",
                        blocked_since=today,
                        blocked_reason="Identity provider change freeze",
                        blocked_unblocker="Globex IT",
                        version=Milestone.version + 1,
                    )
                )
            if today == blocked_from + timedelta(days=9):
                s.execute(
                    update(Milestone)
                    .where(Milestone.id == blocked_milestone.id)
                    .values(
                        status="done",
                        blocked_since=None,
                        blocked_reason=None,
                        completed_at=now,
                        version=Milestone.version + 1,
                    )
                )
            for record in made.values():
                for m in record.milestones:
                    if m.id == blocked_milestone.id:
                        continue
                    finish_on = add_business_days(m.due_on, 3) if m.key == LATE_KEY and record is made[2] else m.due_on
                    if today == finish_on:
                        s.execute(
                            update(Milestone)
                            .where(Milestone.id == m.id, Milestone.status != "done")
                            .values(status="done", completed_at=now, version=Milestone.version + 1)
                        )


def test_sixty_days_of_two_onboardings(harness, world):
    made, blocked = world
    rules = partial(decide, playbooks=harness.services.playbooks)
    moment = _local(START, 8)
    end = moment + timedelta(days=DAYS)
    with freeze_time(moment) as frozen:
        while moment < end:
            frozen.move_to(moment)
            _script(harness.engine, made, blocked, moment)
            run_sweep(harness.services, moment, decide=rules, clock=ManualClock(moment))
            moment += timedelta(hours=1)
    harness.settle()

    with session_scope(harness.engine) as s:
        rows = list(s.exec(select(Notification)))
        escalations = list(s.exec(select(Escalation)))
    sent = [r for r in rows if r.status == "sent"]
    assert sent and not [r for r in rows if r.status == "failed"]
    posts = [c for c in harness.fake.calls_to("chat.postMessage") if c.ok and c.args.get("metadata")]

    # Never on weekends or outside 9:00-17:00 in the customer's timezone.
    for call in posts:
        local = datetime.fromtimestamp(call.at, UTC).astimezone(NEW_YORK)
        assert local.weekday() < 5 and 9 <= local.hour < 17, f"posted at {local:%a %H:%M}"

    # Never twice: each outbox key is carried by exactly one post.
    carried = Counter(k for call in posts for k in call.args["metadata"]["event_payload"]["dedupe_keys"])
    assert carried and max(carried.values()) == 1
    assert set(carried) == {r.dedupe_key for r in sent}

    # At most one digest per person (or channel) per day; urgent escalations go on their own.
    digests = defaultdict(set)
    for r in sent:
        if not r.urgent:
            digests[(r.channel_id, r.sent_at.astimezone(NEW_YORK).date())].add(r.ts)
    assert max(len(ts) for ts in digests.values()) == 1

    # The exact set of posts, read once and kept in tests/data/simulation_posts.txt: a change in what
    # the rules say over these sixty days shows here. Regenerate with ONBOARD_UPDATE_SIMULATION=1.
    names = {made[2].onboarding.id: "acme", made[3].onboarding.id: "globex"}
    actual = sorted(
        f"{r.sent_at.astimezone(NEW_YORK):%Y-%m-%d %a} {names[r.onboarding_id]} {r.rule} {r.subject or '-'} "
        f"{r.audience} to {r.recipient} in {r.channel_id}"
        for r in sent
    )
    if os.environ.get("ONBOARD_UPDATE_SIMULATION"):
        EXPECTED.write_text("\n".join(actual) + "\n")
    assert actual == EXPECTED.read_text().splitlines()

    said = {(r.rule, r.onboarding_id, r.subject) for r in sent}
    level2, level3 = made[2].onboarding.id, made[3].onboarding.id
    assert ("overdue", level2, LATE_KEY) in said, "the late milestone is nudged"
    assert ("silent_account", level2, "") in said, "the silent week is noticed"
    assert any(rule == "weekly_overview" and ob == level2 for rule, ob, _ in said)
    assert any(rule == "due_soon" for rule, _, _ in said)

    # The 9-day block escalates: the sponsor is named in the shared channel with an unblock call
    # proposed, and with nobody acknowledging, the escalation climbs.
    blocked_rows = [r for r in sent if r.rule == "blocked" and r.onboarding_id == level3]
    shared = [r for r in blocked_rows if r.audience == "shared"]
    assert len(shared) == 1
    post = next(c for c in posts if shared[0].dedupe_key in c.args["metadata"]["event_payload"]["dedupe_keys"])
    words = str(post.args)
    assert "<@U0SPONSOR>" in words and ("call" in words.lower())
    escalation = next(e for e in escalations if e.onboarding_id == level3 and e.subject == blocked.key)
    assert escalation.level >= 1 and escalation.acknowledged_at is None
    assert any("level-1" in r.dedupe_key for r in blocked_rows), "the climb to the next level was sent"
    # Nothing is blocked on the level-2 side, so nothing escalates there.
    assert not [r for r in sent if r.rule == "blocked" and r.onboarding_id == level2]
