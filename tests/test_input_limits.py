"""Every form's text is checked on the server: too long, or holding a control character (NUL), and
the form answers with an inline error on that field and nothing is stored.

Slack's own max_length keeps most of this out of a real form, but a request need not come from one,
and PostgreSQL refuses a NUL outright.
"""

from __future__ import annotations

from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import func
from sqlmodel import select

from bot.core.domain import Act
from bot.core.ids import Action, Field, View, person_field
from bot.core.payloads import MilestoneChoice, OnboardingRef
from store.db import session_scope
from store.models import AuditEntry, Milestone, Onboarding, PostedCard
from tests.cards_helpers import card, click, milestone, ref, start_onboarding
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_SPONSOR, SHARED_CHANNEL, VENDOR_AE, VENDOR_CSM, VENDOR_MANAGER
from tests.handoff_flow import HandoffFlow, basics, customer, person, state, story, team, text

BAD = {
    "too long": "x" * 5000,
    "NUL": "Legal\x00 hasn't signed",
    "other control": "Legal\x07 hasn't signed",
}
bad_inputs = pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))


def _onboardings(h) -> int:
    with session_scope(h.engine) as s:
        return s.exec(select(func.count()).select_from(Onboarding)).one()


def _audit(h) -> int:
    with session_scope(h.engine) as s:
        return s.exec(select(func.count()).select_from(AuditEntry)).one()


def _errors(reply) -> dict[str, str]:
    assert reply.status == 200, reply.text
    body = reply.json
    assert body["response_action"] == "errors", body
    return body["errors"]


# -- the handoff ---------------------------------------------------------------------------------


HANDOFF_FIELDS = [
    ("basics", Field.CUSTOMER_NAME),
    ("basics", Field.IT_OTHER),
    ("basics", Field.ACV),
    ("customer", person_field("project_owner", "name")),
    ("customer", person_field("project_owner", "email")),
    ("story", Field.SUCCESS_CRITERIA),
    ("story", Field.CONCERNS),
]


@bad_inputs
@pytest.mark.parametrize(("step", "block"), HANDOFF_FIELDS, ids=[str(b) for _, b in HANDOFF_FIELDS])
def test_handoff_steps_refuse_bad_text_inline(harness, bad, step, block):
    flow = HandoffFlow(harness)
    with freeze_time("2026-05-01 15:00:00", tick=True):
        flow.open()
        steps: list[tuple[str, dict[str, Any]]] = [
            ("basics", basics()),
            ("team", team()),
            ("customer", customer()),
            ("story", story()),
        ]
        for name, fields in steps:
            if name == step:
                fields = {**fields, block: text(bad)}
                errors = _errors(flow.submit(fields))
                assert set(errors) == {block}
                break
            assert flow.submit(fields).json["response_action"] == "update"
    assert _onboardings(harness) == 0


# -- the milestone forms -------------------------------------------------------------------------


@pytest.fixture
def ob(harness) -> Onboarding:
    return start_onboarding(harness)


def _open(h, before: int) -> dict[str, Any]:
    return h.fake.view(h.fake.wait_for("views.open", count=before + 1).response["view"]["id"])


def _as_stored(h, onboarding_id: int, key: str) -> tuple:
    m = milestone(h, onboarding_id, key)
    return (m.status, m.version, m.blocked_reason, m.blocked_unblocker, m.due_on)


@bad_inputs
@pytest.mark.parametrize("block", [Field.BLOCKED_WHAT, Field.BLOCKED_WHO])
def test_blocked_form_refuses_bad_text(harness, ob, bad, block):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    before, audited = _as_stored(harness, ob.id, "intake_received"), _audit(harness)
    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.MILESTONE_BLOCK, ref(harness, ob.id, "intake_received").encode(), CUSTOMER_CHAMPION, c)
    view = _open(harness, opened)
    values = {Field.BLOCKED_WHAT: text("Legal review"), Field.BLOCKED_WHO: text("Our counsel"), block: text(bad)}
    errors = _errors(
        harness.slack.view_submission(view, state(values), user_id=CUSTOMER_CHAMPION, team_id="T0CUSTOMER")
    )
    assert set(errors) == {block}
    assert _as_stored(harness, ob.id, "intake_received") == before and _audit(harness) == audited


@bad_inputs
def test_not_yet_form_refuses_bad_text(harness, ob, bad):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    key = "project_owner_named"
    click(harness, Action.MILESTONE_DONE, ref(harness, ob.id, key).encode(), VENDOR_AE, c)
    harness.fake.wait_for("chat.postMessage", lambda call: "could you confirm" in (call.args.get("text") or ""))
    before, audited = _as_stored(harness, ob.id, key), _audit(harness)
    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.MILESTONE_REJECT, ref(harness, ob.id, key).encode(), CUSTOMER_SPONSOR, c)
    view = _open(harness, opened)
    reply = harness.slack.view_submission(
        view, state({Field.REJECT_REASON: text(bad)}), user_id=CUSTOMER_SPONSOR, team_id="T0CUSTOMER"
    )
    assert set(_errors(reply)) == {Field.REJECT_REASON}
    assert _as_stored(harness, ob.id, key) == before and _audit(harness) == audited


@bad_inputs
def test_due_date_form_refuses_bad_text(harness, ob, bad):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    before, audited = _as_stored(harness, ob.id, "intake_received"), _audit(harness)
    opened = len(harness.fake.calls_to("views.open"))
    choice = MilestoneChoice.of(Act.CHANGE_DUE, ref(harness, ob.id, "intake_received")).encode()
    harness.slack.block_action(
        Action.MILESTONE_MENU,
        user_id=VENDOR_CSM,
        channel_id=c.channel_id,
        message_ts=c.ts,
        selected={"type": "overflow", "selected_option": {"value": choice}},
    )
    view = _open(harness, opened)
    values = {Field.NEW_DUE: {"type": "datepicker", "selected_date": "2026-05-08"}, Field.DUE_REASON: text(bad)}
    errors = _errors(harness.slack.view_submission(view, state(values), user_id=VENDOR_CSM))
    assert set(errors) == {Field.DUE_REASON}
    assert _as_stored(harness, ob.id, "intake_received") == before and _audit(harness) == audited


def test_single_line_fields_refuse_a_line_break_and_multiline_ones_take_it(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.MILESTONE_BLOCK, ref(harness, ob.id, "intake_received").encode(), CUSTOMER_CHAMPION, c)
    view = _open(harness, opened)
    values = {Field.BLOCKED_WHAT: text("Legal review\nthen signature"), Field.BLOCKED_WHO: text("Our\ncounsel")}
    errors = _errors(
        harness.slack.view_submission(view, state(values), user_id=CUSTOMER_CHAMPION, team_id="T0CUSTOMER")
    )
    assert set(errors) == {Field.BLOCKED_WHO} and "one line" in errors[Field.BLOCKED_WHO]


@bad_inputs
def test_add_milestone_form_refuses_bad_text(harness, ob, bad):
    opened = len(harness.fake.calls_to("views.open"))
    harness.slack.command("milestone add", user_id=VENDOR_CSM, channel_id=SHARED_CHANNEL)
    view = _open(harness, opened)
    assert view["callback_id"] == View.MILESTONE_ADD
    with session_scope(harness.engine) as s:
        count = s.exec(select(func.count()).select_from(Milestone)).one()
    values = {
        Field.MILESTONE_TITLE: text(bad),
        Field.MILESTONE_STAGE: {"type": "static_select", "selected_option": {"value": "pre_kickoff"}},
        Field.MILESTONE_TRACK: {"type": "static_select", "selected_option": {"value": "it"}},
        Field.MILESTONE_START: {"type": "datepicker", "selected_date": "2026-05-04"},
        Field.MILESTONE_DUE: {"type": "datepicker", "selected_date": "2026-05-07"},
        Field.CUSTOMER_OWNER: {"type": "static_select", "selected_option": {"value": "champion"}},
        Field.VENDOR_OWNER: {"type": "static_select", "selected_option": {"value": "implementation_csm"}},
    }
    errors = _errors(harness.slack.view_submission(view, state(values), user_id=VENDOR_CSM))
    assert set(errors) == {Field.MILESTONE_TITLE}
    with session_scope(harness.engine) as s:
        assert s.exec(select(func.count()).select_from(Milestone)).one() == count


# -- the gate override ---------------------------------------------------------------------------


@bad_inputs
def test_gate_override_refuses_bad_text(harness, bad):
    with freeze_time("2026-05-01 15:00:00", tick=True):
        HandoffFlow(harness).complete(customer_=customer(project_owner=person("project_owner"), project_owner_fit=()))
    with session_scope(harness.engine) as s:
        handoff = s.exec(select(PostedCard).where(PostedCard.kind == "handoff")).one()
    audited = _audit(harness)
    opened = len(harness.fake.calls_to("views.open"))
    harness.slack.block_action(
        Action.GATE_OVERRIDE,
        user_id=VENDOR_MANAGER,
        value=OnboardingRef(handoff.onboarding_id).encode(),
        channel_id=handoff.channel_id,
        message_ts=handoff.ts,
    )
    view = _open(harness, opened)
    reason = bad if len(bad) > 100 else f"Sponsor agreed by email {bad}"
    errors = _errors(
        harness.slack.view_submission(view, state({Field.OVERRIDE_REASON: text(reason)}), user_id=VENDOR_MANAGER)
    )
    assert set(errors) == {Field.OVERRIDE_REASON}
    with session_scope(harness.engine) as s:
        ob = s.get(Onboarding, handoff.onboarding_id)
        assert ob.gate_override_at is None and ob.gate_override_reason is None
    assert _audit(harness) == audited
