"""Snoozing a nudge and picking up an escalation, through signed clicks: who may, until when, audited."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.core.ids import Action
from bot.core.payloads import NoticeRef, SnoozeChoice, SnoozeSpan
from messages import blocks as b
from store.db import session_scope
from store.models import Activity, AuditEntry, Escalation, Milestone, Onboarding, Person, Snooze
from tests.conftest import (
    CUSTOMER_CHAMPION,
    CUSTOMER_SPONSOR,
    CUSTOMER_TEAM,
    INTERNAL_CHANNEL,
    SHARED_CHANNEL,
    VENDOR_CSM,
    VENDOR_MANAGER,
)

# Monday 4 May 2026, 10:00 in New York.
NOW = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
MILESTONE = "sso_configured_and_tested_with_the_identity_provider"  # longer than an audit field


@pytest.fixture
def clock():
    with freeze_time(NOW, tick=True):
        yield


@pytest.fixture
def onboarding_id(harness, clock) -> int:
    with session_scope(harness.engine) as s:
        ob = Onboarding(
            customer_name="Acme Corp",
            tier=2,
            acv_cents=4_000_000,
            playbook_key="standard_60",
            timezone="America/New_York",
            contract_signed_on=date(2026, 5, 1),
            target_go_live_on=date(2026, 6, 19),
            shared_channel_id=SHARED_CHANNEL,
            internal_channel_id=INTERNAL_CHANNEL,
            created_by=VENDOR_CSM,
        )
        s.add(ob)
        s.flush()
        champion = Person(
            onboarding_id=ob.id, side="customer", role="champion", name="Chris", slack_user_id=CUSTOMER_CHAMPION
        )
        s.add(champion)
        # The vendor's team and the sponsor, as a handoff names them.
        s.add_all(
            [
                Person(
                    onboarding_id=ob.id,
                    side="vendor",
                    role="implementation_csm",
                    name="Casey",
                    slack_user_id=VENDOR_CSM,
                ),
                Person(
                    onboarding_id=ob.id, side="vendor", role="csm_manager", name="Morgan", slack_user_id=VENDOR_MANAGER
                ),
                Person(
                    onboarding_id=ob.id,
                    side="customer",
                    role="executive_sponsor",
                    name="Sam",
                    slack_user_id=CUSTOMER_SPONSOR,
                ),
            ]
        )
        s.flush()
        s.add(
            Milestone(
                onboarding_id=ob.id,
                stage="setup",
                key=MILESTONE,
                title="SSO configured",
                track="it",
                customer_owner_id=champion.id,
                start_on=date(2026, 5, 4),
                due_on=date(2026, 5, 8),
            )
        )
        return ob.id


def _pick(harness, ref: NoticeRef, span: str, user_id: str, team_id: str | None = None):
    return harness.slack.block_action(
        Action.NUDGE_SNOOZE,
        user_id=user_id,
        team_id=team_id,
        channel_id=SHARED_CHANNEL,
        message_ts="1777900000.000100",
        selected={
            "type": "static_select",
            "selected_option": {"value": SnoozeChoice.of(ref, SnoozeSpan(span)).encode()},
        },
    )


def _pick_date(harness, ref: NoticeRef, day: str, user_id: str = VENDOR_CSM, team_id: str | None = None):
    return harness.slack.block_action(
        Action.NUDGE_SNOOZE_UNTIL,
        user_id=user_id,
        team_id=team_id,
        channel_id=SHARED_CHANNEL,
        message_ts="1777900000.000100",
        block_id=ref.encode(),
        selected={"type": "datepicker", "selected_date": day},
    )


def _answer(harness, count: int = 1) -> str:
    call = harness.fake.wait_for("response_url", count=count)
    assert call.args["response_type"] == "ephemeral" and call.args["replace_original"] is False
    return call.args["text"]


def _rows(harness, model, *where):
    with session_scope(harness.engine) as s:
        return s.exec(select(model).where(*where)).scalars().all()


def test_vendor_snoozes_for_three_days_then_moves_it_to_a_date(harness, onboarding_id):
    ref = NoticeRef(onboarding_id, "overdue", MILESTONE)
    assert _pick(harness, ref, "3d", VENDOR_CSM).status == 200
    assert _answer(harness) == "Snoozed until Thu 7 May: I'll stay quiet about this until then."
    (snooze,) = _rows(harness, Snooze)
    assert (snooze.rule, snooze.subject, snooze.snoozed_by) == ("overdue", MILESTONE, VENDOR_CSM)
    assert abs(snooze.until - (NOW + timedelta(days=3))) < timedelta(seconds=30)

    # Saturday 9 May: quiet until Monday's opening in New York, on the same row.
    _pick_date(harness, ref, "2026-05-09")
    assert _answer(harness, 2) == "Snoozed until Mon 11 May: I'll stay quiet about this until then."
    (snooze,) = _rows(harness, Snooze)
    assert snooze.until == datetime(2026, 5, 11, 13, 0, tzinfo=UTC)

    first, second = sorted(_rows(harness, AuditEntry, AuditEntry.action == "snoozed"), key=lambda a: a.id)
    expected = (VENDOR_CSM, "vendor", "until", f"overdue on {MILESTONE}", snooze.id)
    assert [(a.actor, a.actor_side, a.field, a.reason, a.entity_id) for a in (first, second)] == [expected] * 2
    assert first.old_value is None and first.new_value.startswith("2026-05-07T14:00")
    assert (second.old_value, second.new_value) == (first.new_value, "2026-05-11T13:00:00+00:00")
    clicks = _rows(harness, Activity, Activity.kind == "click")
    assert [(c.slack_user_id, c.side) for c in clicks] == [(VENDOR_CSM, "vendor")] * 2


def test_one_day_snooze(harness, onboarding_id):
    _pick(harness, NoticeRef(onboarding_id, "due_soon", MILESTONE), "1d", VENDOR_MANAGER)
    assert _answer(harness).startswith("Snoozed until Tue 5 May")


@pytest.mark.parametrize(
    ("day", "says"),
    [
        ("2026-05-01", "not in the future"),
        ("2026-05-04", "not in the future"),
        ("2026-08-03", "at most 90 days"),
    ],
)
def test_a_date_in_the_past_or_too_far_out_is_refused(harness, onboarding_id, day, says):
    _pick_date(harness, NoticeRef(onboarding_id, "overdue", MILESTONE), day)
    assert says in _answer(harness)
    assert not _rows(harness, Snooze) and not _rows(harness, AuditEntry, AuditEntry.action == "snoozed")


def test_ninety_days_out_is_allowed(harness, onboarding_id):
    _pick_date(harness, NoticeRef(onboarding_id, "overdue", MILESTONE), "2026-08-02")
    assert _answer(harness).startswith("Snoozed until Mon 3 Aug")


def test_customer_owner_may_snooze_their_milestone(harness, onboarding_id):
    _pick(harness, NoticeRef(onboarding_id, "due_soon", MILESTONE), "1d", CUSTOMER_CHAMPION, CUSTOMER_TEAM)
    assert _answer(harness).startswith("Snoozed until")
    (snooze,) = _rows(harness, Snooze)
    assert snooze.snoozed_by == CUSTOMER_CHAMPION
    (entry,) = _rows(harness, AuditEntry, AuditEntry.action == "snoozed")
    assert entry.actor_side == "customer"
    assert [(c.slack_user_id, c.side) for c in _rows(harness, Activity)] == [(CUSTOMER_CHAMPION, "customer")]


def test_other_customers_may_not_snooze(harness, onboarding_id):
    _pick(harness, NoticeRef(onboarding_id, "due_soon", MILESTONE), "1d", CUSTOMER_SPONSOR, CUSTOMER_TEAM)
    assert (
        _answer(harness) == f"This is <@{CUSTOMER_CHAMPION}>'s milestone: only they or the vendor's team can snooze it."
    )
    _pick(harness, NoticeRef(onboarding_id, "silent_account", ""), "3d", CUSTOMER_CHAMPION, CUSTOMER_TEAM)
    assert _answer(harness, 2) == "Only the vendor's team can snooze this."
    _pick_date(
        harness,
        NoticeRef(onboarding_id, "overdue", "no_such_milestone"),
        "2026-05-12",
        CUSTOMER_CHAMPION,
        CUSTOMER_TEAM,
    )
    assert _answer(harness, 3) == "Only the vendor's team can snooze this."
    assert not _rows(harness, Snooze) and not _rows(harness, AuditEntry) and not _rows(harness, Activity)


def test_vendor_may_snooze_anything(harness, onboarding_id):
    _pick(harness, NoticeRef(onboarding_id, "silent_account", ""), "3d", VENDOR_MANAGER)
    assert _answer(harness).startswith("Snoozed until Thu 7 May")
    (snooze,) = _rows(harness, Snooze)
    assert (snooze.rule, snooze.subject) == ("silent_account", "")


# -- "I'm on it" -------------------------------------------------------------------------------------


@pytest.fixture
def escalation(harness, onboarding_id):
    ref = NoticeRef(onboarding_id, "blocked", MILESTONE)
    with session_scope(harness.engine) as s:
        row = Escalation(onboarding_id=onboarding_id, rule="blocked", subject=MILESTONE, opened_on=date(2026, 5, 4))
        s.add(row)
    message = harness.fake.add_message(
        INTERNAL_CHANNEL,
        user=harness.fake.bot_user_id,
        bot_id=harness.fake.bot_id,
        text="Escalation: SSO blocked",
        blocks=[
            b.section(":rotating_light: *SSO configured* has been blocked for 8 days."),
            b.actions(
                b.button("I'm on it", Action.ESCALATION_ACK, ref.encode(), style="primary"),
                {
                    **b.static_select([b.option("1 day", SnoozeChoice.of(ref, SnoozeSpan("1d")).encode())]),
                    "action_id": Action.NUDGE_SNOOZE,
                },
            ),
        ],
    )
    return ref, message


def _ack(harness, escalation, user_id, team_id=None, value=None):
    ref, message = escalation
    return harness.slack.block_action(
        Action.ESCALATION_ACK,
        user_id=user_id,
        team_id=team_id,
        value=value or ref.encode(),
        channel_id=INTERNAL_CHANNEL,
        message_ts=message["ts"],
        message=message,
    )


def test_vendor_picks_up_an_escalation(harness, escalation):
    _ack(harness, escalation, VENDOR_MANAGER)
    assert _answer(harness).startswith("It's yours")
    (row,) = _rows(harness, Escalation)
    assert row.acknowledged_by == VENDOR_MANAGER and row.acknowledged_at is not None
    (entry,) = _rows(harness, AuditEntry, AuditEntry.action == "acknowledged")
    assert (entry.actor, entry.actor_side, entry.entity_id) == (VENDOR_MANAGER, "vendor", row.id)

    updated = harness.fake.wait_for("chat.update")
    assert (updated.args["channel"], updated.args["ts"]) == (INTERNAL_CHANNEL, escalation[1]["ts"])
    (shown,) = harness.fake.messages(INTERNAL_CHANNEL)
    text = json.dumps(shown["blocks"])
    assert f"<@{VENDOR_MANAGER}> is on it" in text and "blocked for 8 days" in text
    assert Action.ESCALATION_ACK not in text and Action.NUDGE_SNOOZE in text


def test_a_second_click_says_who_is_on_it(harness, escalation):
    _ack(harness, escalation, VENDOR_MANAGER)
    _answer(harness)
    _ack(harness, escalation, VENDOR_CSM)
    assert _answer(harness, 2) == f"<@{VENDOR_MANAGER}> is already on it."
    _ack(harness, escalation, VENDOR_MANAGER)
    assert _answer(harness, 3) == "You're already on it."
    (row,) = _rows(harness, Escalation)
    assert row.acknowledged_by == VENDOR_MANAGER
    assert len(_rows(harness, AuditEntry, AuditEntry.action == "acknowledged")) == 1


def test_customer_cannot_pick_up_an_escalation(harness, escalation):
    _ack(harness, escalation, CUSTOMER_CHAMPION, CUSTOMER_TEAM)
    assert _answer(harness) == "Only the vendor's team can pick up an escalation."
    (row,) = _rows(harness, Escalation)
    assert row.acknowledged_at is None
    assert not harness.fake.calls_to("chat.update") and not _rows(harness, AuditEntry)


def test_resolved_escalation_has_nothing_to_pick_up(harness, escalation):
    with session_scope(harness.engine) as s:
        s.exec(select(Escalation)).scalars().one().resolved_at = NOW
    _ack(harness, escalation, VENDOR_CSM)
    assert "already resolved" in _answer(harness)


# -- what cannot be acted on ---------------------------------------------------------------------------


def test_clicks_for_a_deleted_onboarding_get_a_clear_answer(harness, escalation):
    ref, _ = escalation
    with session_scope(harness.engine) as s:
        s.delete(s.get(Onboarding, ref.onboarding_id))
    _pick(harness, ref, "1d", VENDOR_CSM)
    assert _answer(harness) == "This onboarding no longer exists."
    _pick_date(harness, ref, "2026-05-12")
    assert _answer(harness, 2) == "This onboarding no longer exists."
    _ack(harness, escalation, VENDOR_CSM)
    assert _answer(harness, 3) == "This onboarding no longer exists."
    assert not _rows(harness, Snooze) and not harness.fake.calls_to("chat.update")


def test_unreadable_payloads_get_a_clear_answer(harness, escalation):
    harness.slack.block_action(
        Action.NUDGE_SNOOZE,
        user_id=VENDOR_CSM,
        channel_id=SHARED_CHANNEL,
        message_ts="1.2",
        selected={"type": "static_select", "selected_option": {"value": "n:x:overdue:a|1d"}},
    )
    harness.slack.block_action(
        Action.NUDGE_SNOOZE_UNTIL,
        user_id=VENDOR_CSM,
        channel_id=SHARED_CHANNEL,
        message_ts="1.2",
        block_id="something-else",
        selected={"type": "datepicker", "selected_date": "2026-05-12"},
    )
    harness.slack.block_action(
        Action.NUDGE_SNOOZE_UNTIL,
        user_id=VENDOR_CSM,
        channel_id=SHARED_CHANNEL,
        message_ts="1.2",
        block_id=escalation[0].encode(),
        selected={"type": "datepicker", "selected_date": None},
    )
    _ack(harness, escalation, VENDOR_CSM, value="42")
    harness.fake.wait_for("response_url", count=4)
    texts = [c.args["text"] for c in harness.fake.calls_to("response_url")]
    assert texts == ["I couldn't read that control: the message may be out of date. Nothing was changed."] * 4
    assert not _rows(harness, Snooze) and _rows(harness, Escalation)[0].acknowledged_at is None
