"""Stages advance on outcomes, kickoff waits for the readiness gate, go-live needs the sponsor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import select

from bot.core.calendar import today_in
from bot.core.domain import Stage
from bot.core.ids import Action
from bot.core.payloads import OnboardingRef, StageRef
from store.db import session_scope
from store.models import Milestone, Onboarding, Person, StageRecord
from tests.cards_helpers import as_text, button_values, card, click, milestone, ref, shown, start_onboarding
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_SPONSOR, SHARED_CHANNEL, VENDOR_AE, VENDOR_CSM
from tests.handoff_flow import customer, person


def _answers(h) -> int:
    return len(h.fake.calls_to("response_url"))


def _answer(h, before: int) -> str:
    return h.fake.wait_for("response_url", count=before + 1).args.get("text", "")


def _updates(h, c) -> int:
    return sum(1 for call in h.fake.calls_to("chat.update") if call.args["ts"] == c.ts)


def _press_and_wait(h, c, action, key, user, ob_id):
    before = _updates(h, c)
    click(h, action, ref(h, ob_id, key).encode(), user, c)
    h.fake.wait_for("chat.update", lambda call: call.args["ts"] == c.ts, count=before + 1)


def _finish_in_db(h, ob_id: int, *stages: str) -> None:
    with session_scope(h.engine) as s:
        s.execute(
            update(Milestone)
            .where(Milestone.onboarding_id == ob_id, Milestone.stage.in_(stages))
            .values(status="done", completed_at=datetime.now(UTC), version=Milestone.version + 1)
        )


def _move_to(h, ob_id: int, stage: str) -> None:
    with session_scope(h.engine) as s:
        s.execute(update(Onboarding).where(Onboarding.id == ob_id).values(stage=stage))
        s.execute(update(StageRecord).where(StageRecord.onboarding_id == ob_id).values(status="pending"))
        s.execute(
            update(StageRecord)
            .where(StageRecord.onboarding_id == ob_id, StageRecord.key == stage)
            .values(status="active")
        )


def _hand_to(h, ob_id: int, key: str, slack_user_id: str) -> None:
    with session_scope(h.engine) as s:
        person = s.exec(
            select(Person).where(Person.onboarding_id == ob_id, Person.slack_user_id == slack_user_id)
        ).first()
        s.execute(
            update(Milestone)
            .where(Milestone.onboarding_id == ob_id, Milestone.key == key)
            .values(customer_owner_id=person.id, version=Milestone.version + 1)
        )


def test_stage_advance_is_refused_until_the_exit_criteria_are_met(harness):
    ob = start_onboarding(harness)
    c = card(harness, ob.id, "stage", "pre_kickoff")
    value = button_values(shown(harness, c), Action.STAGE_ADVANCE)[0]

    before = _answers(harness)
    click(harness, Action.STAGE_ADVANCE, value, VENDOR_CSM, c)
    refusal = _answer(harness, before)
    assert "isn't finished yet" in refusal and "Intake form received" in refusal

    _press_and_wait(harness, c, Action.MILESTONE_DONE, "intake_received", VENDOR_CSM, ob.id)
    _press_and_wait(harness, c, Action.MILESTONE_DONE, "project_owner_named", VENDOR_AE, ob.id)
    _press_and_wait(harness, c, Action.MILESTONE_DONE, "admin_access", VENDOR_CSM, ob.id)
    # The vendor's word is not enough for client-verified criteria.
    before = _answers(harness)
    click(harness, Action.STAGE_ADVANCE, value, VENDOR_CSM, c)
    assert "waiting for the customer to confirm" in _answer(harness, before)

    _press_and_wait(harness, c, Action.MILESTONE_CONFIRM, "project_owner_named", CUSTOMER_SPONSOR, ob.id)
    # Only a milestone's own customer-side owner confirms it: admin_access is the project owner's,
    # who is not in Slack, so it is handed to the champion first.
    _hand_to(harness, ob.id, "admin_access", CUSTOMER_CHAMPION)
    _press_and_wait(harness, c, Action.MILESTONE_CONFIRM, "admin_access", CUSTOMER_CHAMPION, ob.id)

    before = _answers(harness)
    click(harness, Action.STAGE_ADVANCE, value, CUSTOMER_CHAMPION, c)
    assert "Only the vendor's team" in _answer(harness, before)

    click(harness, Action.STAGE_ADVANCE, value, VENDOR_CSM, c)
    kickoff_post = harness.fake.wait_for(
        "chat.postMessage",
        lambda call: call.args.get("channel") == SHARED_CHANNEL and "Kickoff ·" in call.args.get("text", ""),
    )
    assert kickoff_post.ok
    harness.settle()
    summary = [call for call in harness.fake.calls_to("chat.postMessage") if "is complete" in call.args.get("text", "")]
    assert len(summary) == 1 and "On to *Kickoff*" in summary[0].args["text"]
    with session_scope(harness.engine) as s:
        assert s.get(Onboarding, ob.id).stage == "kickoff"
        stages = {st.key: st.status for st in s.exec(select(StageRecord).where(StageRecord.onboarding_id == ob.id))}
    assert stages["pre_kickoff"] == "done" and stages["kickoff"] == "active"
    assert card(harness, ob.id, "stage", "kickoff").ts == kickoff_post.response["ts"]

    before = _answers(harness)
    click(harness, Action.STAGE_ADVANCE, value, VENDOR_CSM, c)  # the old card's button, clicked again
    assert "already moved on" in _answer(harness, before)


def test_kickoff_waits_for_the_readiness_gate_unless_overridden(harness):
    ob = start_onboarding(harness, customer_=customer(project_owner=person("project_owner"), project_owner_fit=()))
    _finish_in_db(harness, ob.id, "pre_kickoff")
    _move_to(harness, ob.id, "kickoff")
    c = card(harness, ob.id, "stage", "pre_kickoff")

    before = _answers(harness)
    click(harness, Action.MILESTONE_DONE, ref(harness, ob.id, "kickoff_held").encode(), VENDOR_CSM, c)
    answer = _answer(harness, before)
    assert "Kickoff can't be marked done until the readiness gate is met" in answer
    assert "project owner" in answer
    assert milestone(harness, ob.id, "kickoff_held").status == "not_started"

    with session_scope(harness.engine) as s:
        s.execute(
            update(Onboarding)
            .where(Onboarding.id == ob.id)
            .values(
                gate_override_at=datetime.now(UTC), gate_override_by=VENDOR_CSM, gate_override_reason="Sponsor insisted"
            )
        )
    overview = card(harness, ob.id, "overview")
    updates = _updates(harness, overview)
    click(harness, Action.MILESTONE_DONE, ref(harness, ob.id, "kickoff_held").encode(), VENDOR_CSM, c)
    harness.fake.wait_for("chat.update", lambda call: call.args["ts"] == overview.ts, count=updates + 1)
    assert milestone(harness, ob.id, "kickoff_held").status == "done"


def _to_go_live(harness) -> Onboarding:
    ob = start_onboarding(harness)
    _finish_in_db(harness, ob.id, "pre_kickoff", "kickoff", "setup", "training")
    _move_to(harness, ob.id, "training")
    with session_scope(harness.engine) as s:
        from store.models import PostedCard

        s.add(
            PostedCard(
                onboarding_id=ob.id,
                kind="stage",
                subject="training",
                channel_id=SHARED_CHANNEL,
                ts=harness.services.client.chat_postMessage(channel=SHARED_CHANNEL, text="training")["ts"],
            )
        )
    c = card(harness, ob.id, "stage", "training")
    click(harness, Action.STAGE_ADVANCE, StageRef(ob.id, Stage.TRAINING).encode(), VENDOR_CSM, c)
    harness.fake.wait_for("chat.postMessage", lambda call: "Go-live sign-off" in call.args.get("text", ""))
    harness.settle()
    return ob


def _ready_to_sign(harness, ob_id: int) -> None:
    """Everything of go-live done but the sign-off itself, the last of it by its button."""
    with session_scope(harness.engine) as s:
        s.execute(
            update(Milestone)
            .where(
                Milestone.onboarding_id == ob_id,
                Milestone.stage == "go_live",
                Milestone.key.not_in(["go_live_signed", "review_booked"]),
            )
            .values(status="done", completed_at=datetime.now(UTC), version=Milestone.version + 1)
        )
    signoff = card(harness, ob_id, "signoff")
    harness.settle()  # what earlier changes show has landed, so the next update of the card is this one's
    before = _updates(harness, signoff)
    _press_and_wait(harness, card(harness, ob_id, "stage", "go_live"), Action.MILESTONE_DONE, "review_booked",
                    VENDOR_CSM, ob_id)  # fmt: skip
    harness.fake.wait_for("chat.update", lambda call: call.args["ts"] == signoff.ts, count=before + 1)
    harness.settle()


def test_sign_off_waits_for_the_go_live_work_it_rests_on(harness):
    ob = _to_go_live(harness)
    signoff = card(harness, ob.id, "signoff")
    waiting = shown(harness, signoff)
    assert not button_values(waiting, Action.SIGNOFF_SPONSOR), "no sign-off before UAT, baseline and IT work"
    assert not button_values(waiting, Action.SIGNOFF_CSM), "nor a countersignature with nothing to countersign"
    assert "countersigns next" not in as_text(waiting)
    text = as_text(waiting)
    assert "Sign-off opens once this is done" in text
    assert "Acceptance test passed, success baseline recorded" in text and "30-day review on the calendar" in text

    # A sign-off button from before (or forged) is refused with what is still open.
    before = _answers(harness)
    click(harness, Action.SIGNOFF_SPONSOR, OnboardingRef(ob.id).encode(), CUSTOMER_SPONSOR, signoff)
    answer = _answer(harness, before)
    assert "Sign-off opens once" in answer and "Acceptance test passed" in answer
    with session_scope(harness.engine) as s:
        assert s.get(Onboarding, ob.id).sponsor_signed_at is None

    _ready_to_sign(harness, ob.id)
    ready = shown(harness, signoff)
    assert button_values(ready, Action.SIGNOFF_SPONSOR) and "Sign-off opens once" not in as_text(ready)


def test_go_live_sign_off_by_the_sponsor_then_the_csm(harness):
    ob = _to_go_live(harness)
    _ready_to_sign(harness, ob.id)
    signoff = card(harness, ob.id, "signoff")
    shown_card = as_text(shown(harness, signoff))
    assert "Every regional team plans its week in the product" in shown_card, "success criteria in their words"
    assert "What we achieved together" in shown_card and "<@U0SPONSOR>" in shown_card
    value = button_values(shown(harness, signoff), Action.SIGNOFF_SPONSOR)[0]

    for wrong in (VENDOR_CSM, CUSTOMER_CHAMPION):
        before = _answers(harness)
        click(harness, Action.SIGNOFF_SPONSOR, value, wrong, signoff)
        assert "Only the executive sponsor" in _answer(harness, before)
    before = _answers(harness)
    click(harness, Action.SIGNOFF_CSM, value, VENDOR_CSM, signoff)
    assert "signs off first" in _answer(harness, before)

    harness.settle()
    updates = _updates(harness, signoff)
    click(harness, Action.SIGNOFF_SPONSOR, value, CUSTOMER_SPONSOR, signoff)
    harness.fake.wait_for("chat.update", lambda call: call.args["ts"] == signoff.ts, count=updates + 1)
    assert button_values(shown(harness, signoff), Action.SIGNOFF_CSM)

    before = _answers(harness)
    click(harness, Action.SIGNOFF_CSM, value, VENDOR_AE, signoff)
    assert "Only the implementation CSM" in _answer(harness, before)

    harness.settle()
    updates = _updates(harness, signoff)
    click(harness, Action.SIGNOFF_CSM, value, VENDOR_CSM, signoff)
    harness.fake.wait_for("chat.update", lambda call: call.args["ts"] == signoff.ts, count=updates + 1)
    with session_scope(harness.engine) as s:
        done = s.get(Onboarding, ob.id)
    assert done.sponsor_signed_by == CUSTOMER_SPONSOR and done.csm_countersigned_by == VENDOR_CSM
    assert done.status == "live"
    assert done.review_30d_on == today_in(done.timezone, done.csm_countersigned_at) + timedelta(days=30)
    assert milestone(harness, ob.id, "go_live_signed").status == "done"
    assert milestone(harness, ob.id, "go_live_signed").confirmed_by == CUSTOMER_SPONSOR
    assert "30-day review" in as_text(shown(harness, signoff))


def test_go_live_milestone_cannot_be_marked_done_by_button(harness):
    ob = _to_go_live(harness)
    c = card(harness, ob.id, "stage", "go_live")
    before = _answers(harness)
    click(harness, Action.MILESTONE_DONE, ref(harness, ob.id, "go_live_signed").encode(), VENDOR_CSM, c)
    assert "sponsor signs off" in _answer(harness, before)
