"""Overriding a failed readiness gate: vendor side only, with a reason, audited, card updated."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.core.ids import Action, Field, View
from bot.core.payloads import OnboardingForm, OnboardingRef
from bot.onboarding.readiness import kickoff_allowed
from bot.onboarding.start import readiness_of
from store.db import session_scope
from store.models import AuditEntry, Onboarding, PostedCard
from store.onboardings import load
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_TEAM, INTERNAL_CHANNEL, VENDOR_MANAGER
from tests.handoff_flow import HandoffFlow, customer, person, state, text


@pytest.fixture
def not_ready(harness):
    """An onboarding whose gate fails: no project owner named."""
    with freeze_time("2026-05-01 15:00:00", tick=True):
        HandoffFlow(harness).complete(customer_=customer(project_owner=person("project_owner"), project_owner_fit=()))
    with session_scope(harness.engine) as s:
        card = s.exec(select(PostedCard).where(PostedCard.kind == "handoff")).scalars().one()
        ob = s.exec(select(Onboarding)).scalars().one()
    return ob, card


def _click(harness, card, user_id, team_id=None):
    return harness.slack.block_action(
        Action.GATE_OVERRIDE,
        user_id=user_id,
        team_id=team_id,
        value=OnboardingRef(card.onboarding_id).encode(),
        channel_id=card.channel_id,
        message_ts=card.ts,
    )


def test_failed_gate_card_offers_the_override(harness, not_ready):
    _, card = not_ready
    message = next(m for m in harness.fake.messages(INTERNAL_CHANNEL) if m["ts"] == card.ts)
    buttons = [e for blk in message["blocks"] if blk["type"] == "actions" for e in blk["elements"]]
    assert [b["action_id"] for b in buttons] == [Action.GATE_OVERRIDE]


def test_customer_side_cannot_override(harness, not_ready):
    ob, card = not_ready
    assert _click(harness, card, CUSTOMER_CHAMPION, CUSTOMER_TEAM).status == 200
    refusal = harness.fake.wait_for("response_url")
    assert "Only the vendor's team" in refusal.args["text"]
    assert not harness.fake.calls_to("views.open")[1:], "no override modal for the customer"
    with session_scope(harness.engine) as s:
        assert s.get(Onboarding, ob.id).gate_override_at is None


def test_vendor_overrides_with_a_reason_and_it_is_audited(harness, not_ready):
    ob, card = not_ready
    opened_before = len(harness.fake.calls_to("views.open"))
    _click(harness, card, VENDOR_MANAGER)
    opened = harness.fake.wait_for("views.open", count=opened_before + 1)
    view = harness.fake.view(opened.response["view"]["id"])
    assert view["callback_id"] == View.GATE_OVERRIDE

    short = harness.slack.view_submission(view, state({Field.OVERRIDE_REASON: text("because")}), user_id=VENDOR_MANAGER)
    assert "at least 10 characters" in short.json["errors"][Field.OVERRIDE_REASON]
    with session_scope(harness.engine) as s:
        assert s.get(Onboarding, ob.id).gate_override_at is None

    reason = "Sponsor confirmed the project owner by email; naming them at kickoff"
    ok = harness.slack.view_submission(view, state({Field.OVERRIDE_REASON: text(reason)}), user_id=VENDOR_MANAGER)
    assert ok.status == 200 and ok.text == ""
    updated = harness.fake.wait_for("chat.update", lambda c: c.args["ts"] == card.ts)
    assert "overridden by <@U0MANAGER>" in json.dumps(updated.args["blocks"])
    assert Action.GATE_OVERRIDE not in json.dumps(updated.args["blocks"])
    harness.fake.wait_for(
        "chat.postMessage", lambda c: c.args.get("thread_ts") == card.ts and "overrode" in c.args["text"]
    )

    with session_scope(harness.engine) as s:
        record = load(s, ob.id)
        assert record.onboarding.gate_override_by == VENDOR_MANAGER
        assert record.onboarding.gate_override_reason == reason
        readiness = readiness_of(s, record)
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "gate_overridden")).scalars().one()
    assert not readiness.ready and kickoff_allowed(record.onboarding, readiness)
    assert entry.actor == VENDOR_MANAGER and entry.reason == reason and entry.actor_side == "vendor"

    _click(harness, card, VENDOR_MANAGER)
    again = harness.fake.wait_for("response_url")
    assert "already overrode" in again.args["text"]


def test_click_for_a_deleted_onboarding_gets_a_clear_answer(harness, not_ready):
    ob, card = not_ready
    with session_scope(harness.engine) as s:
        s.delete(s.get(Onboarding, ob.id))
    _click(harness, card, VENDOR_MANAGER)
    answer = harness.fake.wait_for("response_url")
    assert "no longer exists" in answer.args["text"]


def _open_form(harness, card):
    opened_before = len(harness.fake.calls_to("views.open"))
    _click(harness, card, VENDOR_MANAGER)
    opened = harness.fake.wait_for("views.open", count=opened_before + 1)
    return harness.fake.view(opened.response["view"]["id"])


REASON = "Sponsor confirmed the project owner by email; naming them at kickoff"


def test_the_form_closes_at_once_and_a_second_override_is_told_where_it_was_opened(harness, not_ready):
    ob, card = not_ready
    first, second = _open_form(harness, card), _open_form(harness, card)
    assert harness.services.seal.open(first["private_metadata"]) == OnboardingForm(ob.id, card.channel_id).encode()
    ok = harness.slack.view_submission(first, state({Field.OVERRIDE_REASON: text(REASON)}), user_id=VENDOR_MANAGER)
    assert ok.status == 200 and ok.text == ""
    harness.settle()
    again = harness.slack.view_submission(second, state({Field.OVERRIDE_REASON: text(REASON)}), user_id=VENDOR_MANAGER)
    assert again.status == 200 and again.text == "", "closed before the database is asked"
    told = harness.fake.wait_for("chat.postEphemeral")
    assert told.args["user"] == VENDOR_MANAGER and told.args["channel"] == card.channel_id
    assert f"<@{VENDOR_MANAGER}> already overrode the gate" in told.args["text"]
    harness.settle()
    with session_scope(harness.engine) as s:
        assert s.get(Onboarding, ob.id).gate_override_by == VENDOR_MANAGER, "the first override stands"
        overrides = s.exec(select(AuditEntry).where(AuditEntry.action == "gate_overridden")).scalars().all()
    assert len(overrides) == 1


def test_an_onboarding_deleted_while_the_form_was_open_is_told(harness, not_ready):
    ob, card = not_ready
    form = _open_form(harness, card)
    with session_scope(harness.engine) as s:
        s.delete(s.get(Onboarding, ob.id))
    reply = harness.slack.view_submission(form, state({Field.OVERRIDE_REASON: text(REASON)}), user_id=VENDOR_MANAGER)
    assert reply.status == 200 and reply.text == ""
    told = harness.fake.wait_for("chat.postEphemeral")
    assert told.args["user"] == VENDOR_MANAGER and "no longer exists" in told.args["text"]


def test_a_form_opened_before_it_kept_its_channel_still_works(harness, not_ready):
    ob, card = not_ready
    form = _open_form(harness, card)
    form["private_metadata"] = harness.services.seal.seal(OnboardingRef(ob.id).encode())
    reply = harness.slack.view_submission(form, state({Field.OVERRIDE_REASON: text(REASON)}), user_id=VENDOR_MANAGER)
    assert reply.status == 200 and reply.text == ""
    harness.fake.wait_for("chat.update", lambda c: c.args["ts"] == card.ts)
    harness.settle()
    with session_scope(harness.engine) as s:
        assert s.get(Onboarding, ob.id).gate_override_by == VENDOR_MANAGER
