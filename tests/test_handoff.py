"""`/onboard new` end to end: the modal steps, inline errors, the plan, feasibility and the gate."""

from __future__ import annotations

import json
from datetime import date

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.core.ids import Field, View, person_field
from store.db import session_scope
from store.models import AuditEntry, Milestone, Onboarding, Person, PostedCard, StageRecord
from store.onboardings import load
from tests.conftest import (
    CUSTOMER_CHAMPION,
    CUSTOMER_TEAM,
    INTERNAL_CHANNEL,
    SHARED_CHANNEL,
    VENDOR_CSM,
)
from tests.handoff_flow import (
    HandoffFlow,
    basics,
    channel,
    choice,
    customer,
    day,
    person,
    story,
    team,
    text,
    ticks,
    user,
)
from tests.test_outbox import make_onboarding

# A Friday: plans starting today run across a weekend straight away.
TODAY = "2026-05-01 15:00:00"


@pytest.fixture
def flow(harness):
    with freeze_time(TODAY, tick=True):
        yield HandoffFlow(harness)


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def _nothing_saved(engine) -> None:
    for model in (Onboarding, Person, Milestone, StageRecord, AuditEntry, PostedCard):
        assert _count(engine, model) == 0, f"{model.__tablename__} has rows before the handoff is complete"


def test_new_opens_the_first_step_with_the_trigger(flow, harness):
    reply = flow.open()

    assert reply.status == 200 and reply.text == ""
    opened = harness.fake.calls_to("views.open")
    assert len(opened) == 1 and opened[0].ok, "the trigger id must be used once, while it is fresh"
    assert flow.step == View.HANDOFF_BASICS
    assert "Step 1 of 4" in json.dumps(flow.view["blocks"])


def test_customer_side_user_is_refused(harness):
    reply = harness.slack.command("new", user_id=CUSTOMER_CHAMPION, team_id=CUSTOMER_TEAM, channel_id=SHARED_CHANNEL)

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "for the vendor's team" in reply.json["text"]
    assert not harness.fake.calls_to("views.open")


def test_customer_side_submission_is_refused(flow, harness):
    flow.open()
    flow.user_id, flow.team_id = CUSTOMER_CHAMPION, CUSTOMER_TEAM
    reply = flow.submit(basics())
    assert reply.json["response_action"] == "errors"
    assert "Only the vendor's team" in json.dumps(reply.json["errors"])
    _nothing_saved(harness.engine)


@pytest.mark.parametrize(
    ("fields", "block", "message"),
    [
        ({"customer_name": text("")}, Field.CUSTOMER_NAME, "Enter the customer's name"),
        ({"customer_name": text("A" * 121)}, Field.CUSTOMER_NAME, "under 120 characters"),
        ({"acv": text("0")}, Field.ACV, "more than zero"),
        ({"acv": text("-5000")}, Field.ACV, "more than zero"),
        ({"acv": text("lots")}, Field.ACV, "as a number"),
        ({"acv": text("500")}, Field.TIER, "self-serve"),
        ({"contract_signed": day("2026-05-04")}, Field.CONTRACT_SIGNED, "can't be in the future"),
        (
            {"contract_signed": day("2026-04-01"), "target_go_live": day("2026-04-20")},
            Field.TARGET_GO_LIVE,
            "must be in the future",
        ),
        (
            {"contract_signed": day("2026-04-01"), "target_go_live": day("2026-05-01")},
            Field.TARGET_GO_LIVE,
            "must be in the future",
        ),
        ({"it_other": text("x" * 301)}, Field.IT_OTHER, "under 300"),
        ({"account_id": text("acme 42")}, Field.ACCOUNT_ID, "An account id is up to 100 letters"),
        ({"account_id": text("-acme")}, Field.ACCOUNT_ID, "starting with a letter or digit"),
    ],
)
def test_deal_step_answers_bad_input_inline(flow, harness, fields, block, message):
    flow.open()
    reply = flow.submit(basics(**fields))

    assert reply.status == 200
    body = reply.json
    assert body["response_action"] == "errors"
    assert message in body["errors"][block]
    assert flow.step == View.HANDOFF_BASICS
    _nothing_saved(harness.engine)


def test_go_live_before_contract_is_named_as_such(flow, harness):
    flow.open()
    reply = flow.submit(basics(contract_signed=day("2026-04-30"), target_go_live=day("2026-04-29")))
    assert "Go-live must come after the contract date" in reply.json["errors"][Field.TARGET_GO_LIVE]
    reply = flow.submit(basics(contract_signed=day("2026-05-01"), target_go_live=day("2026-05-01")))
    assert "Go-live must come after the contract date" in reply.json["errors"][Field.TARGET_GO_LIVE]
    _nothing_saved(harness.engine)


def test_tier_follows_acv_and_can_be_overridden(flow, harness):
    flow.complete(basics_=basics(acv=text("50k"), playbook=choice(None)))
    with session_scope(harness.engine) as s:
        ob = s.exec(select(Onboarding)).scalars().one()
        assert ob.tier == 3 and ob.acv_cents == 5_000_000 and ob.playbook_key == "enterprise_90"


def test_tier_override_is_kept(flow, harness):
    flow.complete(basics_=basics(acv=text("60000"), tier=choice("2")))
    with session_scope(harness.engine) as s:
        ob = s.exec(select(Onboarding)).scalars().one()
        assert ob.tier == 2 and ob.playbook_key == "standard_30"
        created = (
            s.exec(select(AuditEntry).where(AuditEntry.entity == "onboarding", AuditEntry.action == "created"))
            .scalars()
            .one()
        )
        assert "chosen by hand" in created.reason


def _to_team_step(flow):
    flow.open()
    assert flow.submit(basics()).json["response_action"] == "update"


def test_channel_without_the_bot_is_an_inline_error(flow, harness):
    harness.fake.add_channel("C0NOBOT", name="acme-new", is_ext_shared=True, bot_is_member=False)
    _to_team_step(flow)
    reply = flow.submit(team(shared_channel=channel("C0NOBOT")))

    error = reply.json["errors"][Field.SHARED_CHANNEL]
    assert "I'm not in #acme-new" in error and "/invite @Onboard" in error
    _nothing_saved(harness.engine)


def test_internal_channel_must_not_be_shared_with_the_customer(flow, harness):
    _to_team_step(flow)
    reply = flow.submit(team(internal_channel=channel(SHARED_CHANNEL), shared_channel=channel("C0OTHERSHARED")))
    assert reply.json["response_action"] == "errors"
    harness.fake.add_channel("C0OTHERSHARED", name="acme-two", is_ext_shared=True)
    reply = flow.submit(team(shared_channel=channel("C0OTHERSHARED"), internal_channel=channel(SHARED_CHANNEL)))
    assert "shared with another organisation" in reply.json["errors"][Field.INTERNAL_CHANNEL]
    reply = flow.submit(team(internal_channel=channel(SHARED_CHANNEL)))
    assert "different, vendor-only channel" in reply.json["errors"][Field.INTERNAL_CHANNEL]
    _nothing_saved(harness.engine)


def test_customer_person_cannot_be_the_csm(flow, harness):
    _to_team_step(flow)
    reply = flow.submit(team(implementation_csm=user(CUSTOMER_CHAMPION)))
    assert "from your own team" in reply.json["errors"][Field.CSM]
    _nothing_saved(harness.engine)


def test_unshared_channel_is_flagged_on_the_next_step(flow, harness):
    harness.fake.add_channel("C0NOTYET", name="acme-soon", is_ext_shared=False)
    _to_team_step(flow)
    reply = flow.submit(team(shared_channel=channel("C0NOTYET")))
    assert reply.json["response_action"] == "update"
    assert "#acme-soon is not shared with another organisation yet" in json.dumps(flow.view["blocks"])


def _to_customer_step(flow):
    _to_team_step(flow)
    assert flow.submit(team()).json["response_action"] == "update"


@pytest.mark.parametrize(
    ("people", "block", "message"),
    [
        ({"champion": person("champion")}, person_field("champion", "user"), "Name the champion"),
        (
            {"economic_buyer": person("economic_buyer", slack=VENDOR_CSM)},
            person_field("economic_buyer", "user"),
            "someone from your own team",
        ),
        (
            {"it_contact": person("it_contact", name="Ian", email="not-an-email")},
            person_field("it_contact", "email"),
            "doesn't look like an email",
        ),
        (
            {"it_contact": person("it_contact", email="ian@acme.example")},
            person_field("it_contact", "name"),
            "Add the person's name",
        ),
        (
            {"project_owner": person("project_owner", name="P" * 121)},
            person_field("project_owner", "name"),
            "under 120",
        ),
    ],
)
def test_customer_step_answers_bad_input_inline(flow, harness, people, block, message):
    _to_customer_step(flow)
    reply = flow.submit(customer(**people))
    assert message in reply.json["errors"][block]
    _nothing_saved(harness.engine)


@pytest.mark.parametrize(
    ("fields", "block", "message"),
    [
        ({"sold": ""}, Field.SOLD, "needed"),
        ({"success_criteria": ""}, Field.SUCCESS_CRITERIA, "needed"),
        ({"first_value_definition": ""}, Field.FIRST_VALUE, "needed"),
        ({"concerns": "c" * 3001}, Field.CONCERNS, "under 3000"),
    ],
)
def test_story_step_answers_bad_input_inline(flow, harness, fields, block, message):
    _to_customer_step(flow)
    assert flow.submit(customer()).json["response_action"] == "update"
    reply = flow.submit(story(**fields))
    assert message in reply.json["errors"][block]
    _nothing_saved(harness.engine)


def test_complete_handoff_creates_the_dated_plan(flow, harness):
    result = flow.complete()

    with session_scope(harness.engine) as s:
        ob = s.exec(select(Onboarding)).scalars().one()
        record = load(s, ob.id)
    assert ob.customer_name == "Acme Corp" and ob.tier == 2 and ob.playbook_key == "standard_30"
    assert ob.acv_cents == 4_000_000 and ob.timezone == "America/New_York"
    assert ob.shared_channel_id == SHARED_CHANNEL and ob.internal_channel_id == INTERNAL_CHANNEL
    assert ob.it_dependencies == ["sso"]

    by_key = {m.key: m for m in record.milestones}
    # Contract signed on Friday 1 May: day 0 is that Friday, day 1 the Monday after the weekend.
    assert (by_key["intake_received"].start_on, by_key["intake_received"].due_on) == (
        date(2026, 5, 1),
        date(2026, 5, 5),
    )
    assert by_key["admin_access"].start_on == date(2026, 5, 4)
    assert by_key["go_live_signed"].due_on == date(2026, 6, 19)
    assert all(m.start_on.weekday() < 5 and m.due_on.weekday() < 5 for m in record.milestones)
    assert "sso_live" in by_key and "crm_connected" not in by_key, "IT milestones follow what is in scope"

    champion = record.person_by_id(by_key["intake_received"].customer_owner_id)
    csm = record.person_by_id(by_key["intake_received"].vendor_owner_id)
    assert champion.slack_user_id == CUSTOMER_CHAMPION and champion.side == "customer"
    assert csm.slack_user_id == VENDOR_CSM and csm.name == "Casey Vendor"
    handoff_done = by_key["handoff_done"]
    assert handoff_done.vendor_owner_id is None and handoff_done.vendor_owner_role == "ongoing_csm"
    assert "no owner yet, for: Ongoing CSM" in json.dumps(result)

    stages = [st.key for st in record.stages]
    assert stages == ["pre_kickoff", "kickoff", "setup", "training", "go_live", "adoption"]
    assert record.stages[0].status == "active" and record.stages[0].exit_criteria

    with session_scope(harness.engine) as s:
        actions = [a.action for a in s.exec(select(AuditEntry)).scalars()]
    assert {"created", "added", "readiness_checked", "posted"} <= set(actions)
    assert actions.count("added") == len(record.people)

    assert "Ready for kickoff" in json.dumps(result)
    cards = {c.kind: c for c in _cards(harness)}
    assert cards["overview"].channel_id == SHARED_CHANNEL and cards["handoff"].channel_id == INTERNAL_CHANNEL
    assert harness.fake.calls_to("pins.add")[0].args["timestamp"] == cards["overview"].ts


def _cards(harness) -> list[PostedCard]:
    with session_scope(harness.engine) as s:
        return list(s.exec(select(PostedCard)).scalars())


def test_unrealistic_go_live_is_flagged_with_the_earliest_date_and_the_driving_track(flow, harness):
    result = flow.complete(basics_=basics(it_dependencies=ticks("data_migration"), target_go_live=day("2026-06-05")))

    shown = json.dumps(result)
    assert "too early" in shown and "Tue 23 Jun 2026" in shown and "IT track" in shown
    assert "Not ready for kickoff" in shown
    with session_scope(harness.engine) as s:
        ob = s.exec(select(Onboarding)).scalars().one()
    assert ob.earliest_go_live_on == date(2026, 6, 23)
    internal = json.dumps(harness.fake.messages(INTERNAL_CHANNEL))
    assert "earliest realistic go-live at Tue 23 Jun 2026" in internal


def test_gate_lists_what_is_missing(flow, harness):
    result = flow.complete(customer_=customer(project_owner=person("project_owner"), project_owner_fit=()))
    shown = json.dumps(result)
    assert "Not ready for kickoff" in shown and "Name the customer's project owner" in shown


def test_gate_wants_capacity_and_authority(flow, harness):
    result = flow.complete(customer_=customer(project_owner_fit=("capacity",)))
    assert "has the authority to drive this" in json.dumps(result)


def test_gate_checks_the_csm_account_ratio(flow, harness):
    with session_scope(harness.engine) as s:
        for i in range(15):
            ob = Onboarding(
                customer_name=f"Existing {i}",
                tier=3,
                acv_cents=1,
                playbook_key="enterprise_90",
                timezone="UTC",
                contract_signed_on=date(2026, 1, 1),
                target_go_live_on=date(2026, 6, 1),
                created_by=VENDOR_CSM,
            )
            s.add(ob)
            s.flush()
            s.add(
                Person(
                    onboarding_id=ob.id,
                    side="vendor",
                    role="implementation_csm",
                    name="Casey",
                    slack_user_id=VENDOR_CSM,
                )
            )
    result = flow.complete(basics_=basics(acv=text("80k"), target_go_live=day("2026-09-30")))
    assert "carry 16 active onboardings; this level allows 15" in json.dumps(result)


def test_internal_text_never_reaches_the_shared_channel(flow, harness):
    concern, politics = "MARKER-CONCERN-7f3a", "MARKER-POLITICS-9c1e"
    flow.complete(story_=story(concerns=concern, political_dynamics=politics))

    shared_calls = [c for c in harness.fake.calls if c.args.get("channel") == SHARED_CHANNEL]
    assert shared_calls, "the welcome and plan must go to the shared channel"
    for call in shared_calls:
        sent = json.dumps(call.args)
        assert concern not in sent and politics not in sent, f"{call.method} leaked internal text"
    for message in harness.fake.messages(SHARED_CHANNEL):
        assert concern not in json.dumps(message) and politics not in json.dumps(message)
    internal = json.dumps(harness.fake.messages(INTERNAL_CHANNEL))
    assert concern in internal and politics in internal, "the internal channel gets the full handoff"


def test_posting_failure_is_reported_and_nothing_is_lost(flow, harness):
    harness.fake.fail_next("chat.postMessage", error="is_archived")
    result = flow.complete()
    assert "couldn't post the handoff" in json.dumps(result)
    assert _count(harness.engine, Onboarding) == 1
    with session_scope(harness.engine) as s:
        failed = s.exec(select(AuditEntry).where(AuditEntry.action == "post_failed")).scalars().all()
    assert len(failed) == 1


def test_the_account_id_given_at_handoff_ties_usage_reports_to_the_onboarding(flow, harness):
    result = flow.complete(basics_=basics(account_id=text("acme-42")))

    with session_scope(harness.engine) as s:
        ob = s.exec(select(Onboarding)).scalars().one()
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "account_id_set")).scalars().one()
    assert ob.external_account_id == "acme-42"
    assert (entry.new_value, entry.actor, entry.field) == ("acme-42", VENDOR_CSM, "external_account_id")
    assert "Usage reports for account `acme-42` count for Acme Corp." in json.dumps(result)


def test_without_an_account_id_none_is_stored(flow, harness):
    flow.complete()
    with session_scope(harness.engine) as s:
        ob = s.exec(select(Onboarding)).scalars().one()
        assert ob.external_account_id is None
        assert not s.exec(select(AuditEntry).where(AuditEntry.action == "account_id_set")).scalars().all()


def test_an_account_id_another_onboarding_holds_is_left_off_and_said(flow, harness):
    holder = make_onboarding(harness.engine, customer="Globex", shared="C0OTHER", internal=None)
    with session_scope(harness.engine) as s:
        s.get(Onboarding, holder).external_account_id = "acme-42"
    result = flow.complete(basics_=basics(account_id=text("acme-42")))

    with session_scope(harness.engine) as s:
        ob = s.exec(select(Onboarding).where(Onboarding.customer_name == "Acme Corp")).scalars().one()
    assert ob.external_account_id is None
    assert "already belongs to the onboarding of Globex" in json.dumps(result)
