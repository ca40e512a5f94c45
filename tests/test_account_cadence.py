"""The account cadence after the handoff, and the renewal-risk flags, with a frozen clock: each reminder
on its day, to the ongoing CSM, in the customer's business hours, once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.automation.rules import decide
from bot.automation.rules.cadence import add_months, schedule
from bot.core.notices import Rule
from bot.runtime.sweep import run_sweep
from store.db import session_scope
from store.models import AccountHandoff, Activity, AuditEntry, Escalation, Notification, Onboarding
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_TEAM, SHARED_CHANNEL, Harness
from tests.test_ongoing_handoff import ONGOING, _hand_over
from tests.test_outbox import ManualClock

MEETING = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)  # Monday 10:00 in New York
RENEWAL = date(2027, 5, 1)


def test_the_schedule_of_each_level():
    anchor = date(2026, 6, 1)
    level_2 = schedule(2, anchor, RENEWAL)
    assert [(r, d) for r, _, d in level_2] == [
        *[(Rule.CHECK_IN, date(2026, m, 1)) for m in range(7, 13)],
        (Rule.RENEWAL, date(2027, 3, 2)),  # 60 days before
    ]
    level_3 = schedule(3, anchor, RENEWAL)
    reviews = [d for r, _, d in level_3 if r is Rule.BUSINESS_REVIEW]
    assert reviews == [date(2026, 9, 1), date(2026, 12, 1), date(2027, 3, 1)]
    check_ins = [d for r, _, d in level_3 if r is Rule.CHECK_IN]
    assert check_ins == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert [d for r, _, d in level_3 if r is Rule.RENEWAL] == [date(2027, 1, 31)]  # 90 days before
    assert [(r, d) for r, _, d in schedule(1, anchor, RENEWAL)] == [(Rule.RENEWAL, date(2027, 3, 2))]
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def _account(h: Harness, tier: int) -> int:
    shared = h.fake.channels[SHARED_CHANNEL]
    try:
        ob, _post = _hand_over(h)
    finally:
        if ONGOING in shared["members"]:
            shared["members"].remove(ONGOING)
    with session_scope(h.engine) as s:
        s.execute(update(Onboarding).where(Onboarding.id == ob.id).values(status="handed_off", tier=tier))
        s.execute(update(AccountHandoff).where(AccountHandoff.onboarding_id == ob.id).values(
            meeting_at=MEETING, renewal_on=RENEWAL))  # fmt: skip
    return ob.id


def _sweep(h: Harness, now: datetime):
    return run_sweep(
        h.services, now, decide=lambda s, at: decide(s, at, playbooks=h.services.playbooks), clock=ManualClock(now)
    )


def _said(h: Harness, onboarding_id: int) -> list[Notification]:
    with session_scope(h.engine) as s:
        return list(s.exec(select(Notification).where(Notification.onboarding_id == onboarding_id)))


def _dms(h: Harness) -> list[str]:
    return [
        c.args.get("text", "") + str(c.args.get("blocks", ""))
        for c in h.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == ONGOING
    ]


def test_the_monthly_check_in_goes_on_its_day_once_to_the_ongoing_csm(harness):
    h = harness
    ob_id = _account(h, tier=2)
    _sweep(h, datetime(2026, 6, 30, 14, 0, tzinfo=UTC))
    assert [n.rule for n in _said(h, ob_id)] == []
    _sweep(h, datetime(2026, 7, 1, 11, 0, tzinfo=UTC))  # 07:00 in New York: before business hours
    assert [n.rule for n in _said(h, ob_id)] == []
    _sweep(h, datetime(2026, 7, 1, 14, 0, tzinfo=UTC))
    said = _said(h, ob_id)
    assert [(n.rule, n.subject, n.recipient, n.status) for n in said] == [("check_in", "check_in-1", ONGOING, "sent")]
    facts = said[0].payload["facts"]
    assert facts["renewal_on"] == "2027-05-01" and "open_escalations" in facts and "health_score" in facts
    assert any("book the monthly check-in" in text and "Acme Corp" in text for text in _dms(h))
    # Later that day, and the next: nothing new.
    _sweep(h, datetime(2026, 7, 1, 18, 0, tzinfo=UTC))
    _sweep(h, datetime(2026, 7, 2, 14, 0, tzinfo=UTC))
    assert len(_said(h, ob_id)) == 1


def test_level_3_has_quarterly_reviews_and_the_renewal_90_days_ahead(harness):
    h = harness
    ob_id = _account(h, tier=3)
    _sweep(h, datetime(2026, 9, 1, 14, 0, tzinfo=UTC))
    assert [n.subject for n in _said(h, ob_id) if n.rule != "renewal_risk"] == ["business_review-1"]
    # The renewal falls due on a Sunday: said on the Monday, in business hours.
    _sweep(h, datetime(2027, 1, 31, 15, 0, tzinfo=UTC))
    assert "renewal" not in [n.subject for n in _said(h, ob_id)]
    _sweep(h, datetime(2027, 2, 1, 15, 0, tzinfo=UTC))
    renewal = [n for n in _said(h, ob_id) if n.subject == "renewal"]
    assert len(renewal) == 1 and renewal[0].recipient == ONGOING
    assert any("renewal conversation" in text for text in _dms(h))


def test_several_escalations_flag_a_renewal_risk(harness):
    h = harness
    ob_id = _account(h, tier=1)
    with session_scope(h.engine) as s:
        s.add(Escalation(onboarding_id=ob_id, rule="blocked", subject="sso_live", opened_on=date(2026, 7, 6)))
    _sweep(h, datetime(2026, 7, 20, 14, 0, tzinfo=UTC))
    assert not [n for n in _said(h, ob_id) if n.rule == "renewal_risk"]
    with session_scope(h.engine) as s:
        s.add(Escalation(onboarding_id=ob_id, rule="overdue", subject="crm_connected", opened_on=date(2026, 7, 21)))
    _sweep(h, datetime(2026, 7, 22, 14, 0, tzinfo=UTC))
    _sweep(h, datetime(2026, 7, 23, 14, 0, tzinfo=UTC))
    risks = [n for n in _said(h, ob_id) if n.rule == "renewal_risk"]
    assert [(n.subject, n.recipient) for n in risks] == [("escalations", ONGOING)]
    assert any("2 escalations in the last 90 days" in text for text in _dms(h))


def test_the_champion_leaving_the_channel_flags_a_renewal_risk(harness):
    h = harness
    ob_id = _account(h, tier=1)
    left = {"type": "member_left_channel", "user": CUSTOMER_CHAMPION, "channel": SHARED_CHANNEL,
            "channel_type": "C", "team": CUSTOMER_TEAM, "event_ts": str(datetime(2026, 8, 3, 15, tzinfo=UTC).timestamp())}  # fmt: skip
    assert h.slack.event(left).status == 200
    h.settle()
    _sweep(h, datetime(2026, 8, 3, 16, 0, tzinfo=UTC))
    risks = [n for n in _said(h, ob_id) if n.rule == "renewal_risk"]
    assert [n.subject for n in risks] == ["champion_left"]
    assert any(f"<@{CUSTOMER_CHAMPION}> (their champion) left the shared channel" in text for text in _dms(h))


@pytest.mark.parametrize("acted", [False, True])
def test_a_review_not_acted_on_flags_a_renewal_risk(harness, acted):
    h = harness
    ob_id = _account(h, tier=2)
    _sweep(h, datetime(2026, 7, 1, 14, 0, tzinfo=UTC))
    if acted:
        with session_scope(h.engine) as s:
            s.add(Activity(onboarding_id=ob_id, slack_user_id=ONGOING, side="vendor", kind="message",
                           at=datetime(2026, 7, 2, 15, tzinfo=UTC)))  # fmt: skip
    _sweep(h, datetime(2026, 7, 7, 14, 0, tzinfo=UTC))  # 4 business days on
    assert not [n for n in _said(h, ob_id) if n.rule == "renewal_risk"]
    _sweep(h, datetime(2026, 7, 8, 14, 0, tzinfo=UTC))  # 5 business days on
    risks = [n.subject for n in _said(h, ob_id) if n.rule == "renewal_risk"]
    assert risks == ([] if acted else ["slow-check_in-1"])


def test_the_champion_changing_flags_a_renewal_risk(harness):
    h = harness
    ob_id = _account(h, tier=1)
    with session_scope(h.engine) as s:  # as a change of the champion is audited
        s.add(AuditEntry(onboarding_id=ob_id, entity="person", action="changed", field="champion",
                         old_value=CUSTOMER_CHAMPION, new_value="U0NEWCHAMP", actor="U0CSM",
                         at=datetime(2026, 8, 4, 15, tzinfo=UTC)))  # fmt: skip
    _sweep(h, datetime(2026, 8, 4, 16, 0, tzinfo=UTC))
    assert [n.subject for n in _said(h, ob_id) if n.rule == "renewal_risk"] == ["champion_changed"]
    assert any("their champion changed" in text for text in _dms(h))


def _weekly_active(h: Harness, ob_id: int, counts: list[int], last: date) -> None:
    from datetime import timedelta

    from store.models import UsageRecord

    with session_scope(h.engine) as s:
        for i, count in enumerate(reversed(counts)):
            s.add(UsageRecord(onboarding_id=ob_id, day=last - timedelta(weeks=i), metric="weekly_active_users",
                              value=count))  # fmt: skip


@pytest.mark.parametrize(
    ("counts", "flagged"),
    [([100, 110, 120, 100, 80, 60, 50, 45], True), ([40, 45, 50, 60, 70, 80, 90, 95], False), ([50] * 8, False)],
    ids=["declining", "growing", "flat"],
)
def test_product_usage_declining_flags_a_renewal_risk_once_a_week(harness, counts, flagged):
    h = harness
    ob_id = _account(h, tier=2)
    _weekly_active(h, ob_id, counts, date(2026, 7, 20))
    _sweep(h, datetime(2026, 7, 21, 14, 0, tzinfo=UTC))  # a Tuesday
    _sweep(h, datetime(2026, 7, 23, 14, 0, tzinfo=UTC))  # the same week: not again
    risks = [n for n in _said(h, ob_id) if n.rule == "renewal_risk" and n.subject == "usage_declining"]
    if not flagged:
        assert risks == []
        return
    assert [(n.recipient, n.payload["facts"]["peak"], n.payload["facts"]["last"]) for n in risks] == [
        (ONGOING, 120, 45)
    ]
    # (120 - 45) / 120 = 62.5%, shown rounded.
    assert any("weekly active users are 62% below their peak" in text for text in _dms(h))
