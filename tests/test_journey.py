"""The whole journey through the interface alone: Kickoff to a completed Adoption, clicking only what
the bot rendered, each control pressed by the person it is addressed to; and what a refused move names.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import update
from sqlmodel import select

from bot.automation.rules import decide
from bot.core.domain import Stage
from bot.core.ids import Action, Field, View
from bot.onboarding.handoff import HandoffDraft
from store.db import session_scope
from store.models import AuditEntry, Milestone, Onboarding, Person, PostedCard
from tests.cards_helpers import as_text, button_values, card, click, milestone, shown, start_onboarding
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_SPONSOR, SHARED_CHANNEL, VENDOR_AE, VENDOR_CSM, Harness
from tests.handoff_flow import HandoffFlow, basics, choice, customer, day, person, state, team, text, user

MENTION = re.compile(r"<@(U[A-Z0-9]+)>")
ONGOING = VENDOR_AE  # the account executive takes the account over after go-live, in these tests


def _everyone_in_slack() -> dict:
    """Every customer-side person a Slack user, so each milestone's owner can press its buttons."""
    return customer(
        project_owner=person("project_owner", slack=CUSTOMER_CHAMPION),
        day_to_day_owner=person("day_to_day_owner", slack=CUSTOMER_CHAMPION),
        it_contact=person("it_contact", slack=CUSTOMER_CHAMPION),
    )


def _onboarding(h: Harness, playbook: str, **team_over: Any) -> Onboarding:
    return start_onboarding(
        h,
        basics_=basics(playbook=choice(playbook), target_go_live=day("2026-10-30")),
        team_=team(**team_over),
        customer_=_everyone_in_slack(),
    )


def _standard_60(h: Harness, **team_over: Any) -> Onboarding:
    return _onboarding(h, "standard_60", **team_over)


def _updates(h: Harness, c: PostedCard) -> int:
    return sum(1 for call in h.fake.calls_to("chat.update") if call.args["ts"] == c.ts)


def _press(h: Harness, c: PostedCard, action_id: str, value: str, user_id: str) -> None:
    """Press a button on a card and wait until the card shows the result."""
    before = _updates(h, c)
    click(h, action_id, value, user_id, c)
    h.fake.wait_for("chat.update", lambda call: call.args["ts"] == c.ts, count=before + 1)
    h.settle()


def _milestones_on(message: dict[str, Any]) -> list[tuple[int, list[str], list[str], dict[str, str]]]:
    """(milestone id, customer owners, vendor owners, {action_id: value}) for each milestone with buttons."""
    blocks = message.get("blocks", [])
    found = []
    for block, after in zip(blocks, [*blocks[1:], {}], strict=True):
        if block["type"] != "section" or not str(block.get("block_id", "")).startswith("m."):
            continue
        owners = block["text"]["text"].split("\n")[2]
        customer_part, vendor_part = owners.split(" · ", 1)
        buttons = {}
        if after.get("type") == "actions" and after.get("block_id", "").startswith("a."):
            buttons = {e["action_id"]: e["value"] for e in after["elements"]}
        found.append(
            (
                int(block["block_id"].split(".")[1]),
                MENTION.findall(customer_part),
                MENTION.findall(vendor_part),
                buttons,
            )
        )
    return found


def _key_of(h: Harness, milestone_id: int) -> str:
    with session_scope(h.engine) as s:
        return s.get(Milestone, milestone_id).key


def _finish_stage(h: Harness, ob_id: int, stage: Stage) -> None:
    """Press, on the stage card, each milestone's next button as its owner: done by the vendor-side
    owner, then Confirm by the customer-side owner, until nothing is left open there."""
    c = card(h, ob_id, "stage", stage.value)
    for _ in range(60):
        pressable = []
        for mid, customers, vendors, buttons in _milestones_on(shown(h, c)):
            if _key_of(h, mid) == "go_live_signed":
                continue  # done by the sign-off card, not by a button
            if Action.MILESTONE_CONFIRM in buttons:
                assert customers, "a milestone waiting for confirmation names its customer-side owner"
                pressable.append((Action.MILESTONE_CONFIRM, buttons[Action.MILESTONE_CONFIRM], customers[0]))
            elif Action.MILESTONE_DONE in buttons:
                assert vendors, "every milestone names its vendor-side owner"
                pressable.append((Action.MILESTONE_DONE, buttons[Action.MILESTONE_DONE], vendors[0]))
        if not pressable:
            return
        action_id, value, who = pressable[0]
        _press(h, c, action_id, value, who)
    raise AssertionError(f"{stage.label} never finished")


def _control(message: dict[str, Any], action_id: str) -> str:
    values = button_values(message, action_id)
    assert len(values) == 1, f"expected one {action_id} control, found {values}"
    return values[0]


def _move_on(h: Harness, ob_id: int, stage: Stage, following: Stage) -> None:
    c = card(h, ob_id, "stage", stage.value)
    click(h, Action.STAGE_ADVANCE, _control(shown(h, c), Action.STAGE_ADVANCE), VENDOR_CSM, c)
    h.fake.wait_for(
        "chat.postMessage",
        lambda call: call.args.get("channel") == SHARED_CHANNEL and f"{following.label} ·" in call.args.get("text", ""),
    )
    h.settle()


@pytest.mark.parametrize("playbook", ["standard_60", "standard_30", "light", "enterprise_90"])
def test_an_onboarding_goes_from_kickoff_to_a_completed_adoption_by_its_controls(harness, playbook):
    h = harness
    ob = _onboarding(h, playbook, ongoing_csm=user(ONGOING))
    with session_scope(h.engine) as s:
        unowned = s.exec(
            select(Milestone).where(
                Milestone.onboarding_id == ob.id,
                (Milestone.customer_owner_id.is_(None)) | (Milestone.vendor_owner_id.is_(None)),  # type: ignore[union-attr]
            )
        ).all()
    assert not unowned, "with the ongoing CSM named in the handoff, every milestone has both owners"

    stages = list(Stage)
    for stage, following in itertools.pairwise(stages):
        _finish_stage(h, ob.id, stage)
        if stage is Stage.GO_LIVE:
            signoff = card(h, ob.id, "signoff")
            message = shown(h, signoff)
            assert f"<@{CUSTOMER_SPONSOR}>" in as_text(message), "the sign-off is addressed to the sponsor"
            _press(h, signoff, Action.SIGNOFF_SPONSOR, _control(message, Action.SIGNOFF_SPONSOR), CUSTOMER_SPONSOR)
            _press(h, signoff, Action.SIGNOFF_CSM, _control(shown(h, signoff), Action.SIGNOFF_CSM), VENDOR_CSM)
        _move_on(h, ob.id, stage, following)

    _finish_stage(h, ob.id, Stage.ADOPTION)
    adoption = card(h, ob.id, "stage", Stage.ADOPTION.value)
    message = shown(h, adoption)
    assert not button_values(message, Action.STAGE_ADVANCE)
    _press(h, adoption, Action.ONBOARDING_COMPLETE, _control(message, Action.ONBOARDING_COMPLETE), VENDOR_CSM)

    assert not h.fake.calls_to("response_url"), "no press along the way was refused"
    closing = [c for c in h.fake.calls_to("chat.postMessage") if "onboarding is complete" in c.args.get("text", "")]
    assert len(closing) == 1 and f"<@{ONGOING}>" in closing[0].args["text"]
    assert "This onboarding is complete" in as_text(shown(h, adoption))
    assert not button_values(shown(h, adoption), Action.ONBOARDING_COMPLETE)
    with session_scope(h.engine) as s:
        done = s.get(Onboarding, ob.id)
        milestones = s.exec(select(Milestone).where(Milestone.onboarding_id == ob.id)).all()
        completed = s.exec(
            select(AuditEntry).where(AuditEntry.onboarding_id == ob.id, AuditEntry.action == "completed")
        ).all()
    assert done.status == "handed_off" and done.stage == "adoption"
    assert all(m.status == "done" for m in milestones)
    assert len(completed) == 1 and completed[0].actor == VENDOR_CSM

    # A second press finds it complete, and changes nothing.
    click(h, Action.ONBOARDING_COMPLETE, _control(message, Action.ONBOARDING_COMPLETE), VENDOR_CSM, adoption)
    assert "already complete" in h.fake.wait_for("response_url").args["text"]

    # A closed onboarding gets no more nudges, even with something left open past its date.
    with session_scope(h.engine) as s:
        s.execute(
            update(Milestone)
            .where(Milestone.onboarding_id == ob.id, Milestone.key == "check_in_30_day")
            .values(status="in_progress", due_on=datetime(2026, 5, 4).date())
        )
    monday = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 10:00 in New York
    with session_scope(h.engine) as s, freeze_time(monday):
        notices = list(decide(s, monday, playbooks=h.services.playbooks))
    assert not [n for n in notices if n.onboarding_id == ob.id]


def test_completing_is_refused_until_adoption_is_done_and_is_the_vendors(harness):
    h = harness
    ob = _standard_60(h, ongoing_csm=user(ONGOING))
    with session_scope(h.engine) as s:
        s.execute(
            update(Milestone)
            .where(Milestone.onboarding_id == ob.id, Milestone.stage != "adoption")
            .values(status="done", version=Milestone.version + 1)
        )
        s.execute(update(Onboarding).where(Onboarding.id == ob.id).values(stage="adoption", status="live"))
    c = card(h, ob.id, "stage", "pre_kickoff")
    from bot.core.payloads import OnboardingRef

    value = OnboardingRef(ob.id).encode()
    click(h, Action.ONBOARDING_COMPLETE, value, CUSTOMER_CHAMPION, c)
    assert "for the vendor's team" in h.fake.wait_for("response_url").args["text"]
    click(h, Action.ONBOARDING_COMPLETE, value, VENDOR_CSM, c)
    refused = h.fake.wait_for("response_url", count=2).args
    assert "Adoption isn't finished yet" in refused["text"]
    assert "Handoff meeting held and the written handoff accepted by the ongoing CSM" in as_text(refused["blocks"])
    with session_scope(h.engine) as s:
        assert s.get(Onboarding, ob.id).status == "live"


def test_a_refused_move_names_each_milestone_holding_it_and_offers_the_fix(harness):
    h = harness
    ob = _standard_60(h)  # no ongoing CSM named in the handoff
    pre = card(h, ob.id, "stage", "pre_kickoff")

    # Pre-kickoff: each milestone not done yet is named, with a link to the card that has its buttons.
    click(h, Action.STAGE_ADVANCE, _control(shown(h, pre), Action.STAGE_ADVANCE), VENDOR_CSM, pre)
    refused = h.fake.wait_for("response_url").args
    said = as_text(refused["blocks"])
    assert "Pre-kickoff isn't finished yet" in refused["text"]
    for key in ("intake_received", "project_owner_named", "admin_access"):
        assert milestone(h, ob.id, key).title in said
    links = [b["accessory"] for b in refused["blocks"] if b.get("accessory", {}).get("action_id") == Action.OPEN_CARD]
    assert len(links) == 3 and all(f"/archives/{pre.channel_id}/p{pre.ts.replace('.', '')}" in a["url"] for a in links)

    _finish_stage(h, ob.id, Stage.PRE_KICKOFF)
    _move_on(h, ob.id, Stage.PRE_KICKOFF, Stage.KICKOFF)
    _finish_stage(h, ob.id, Stage.KICKOFF)

    # Kickoff: the handoff milestone of the last stage has no owner on our side; the refusal names it
    # (its card is not posted yet) and offers to assign one.
    kickoff = card(h, ob.id, "stage", "kickoff")
    answers = len(h.fake.calls_to("response_url"))
    click(h, Action.STAGE_ADVANCE, _control(shown(h, kickoff), Action.STAGE_ADVANCE), VENDOR_CSM, kickoff)
    refused = h.fake.wait_for("response_url", count=answers + 1).args
    assert "Every milestone has an owner on both sides (1 still needs one)" in refused["text"]
    handoff = milestone(h, ob.id, "handoff_done")
    holding = [b for b in refused["blocks"] if handoff.title in b.get("text", {}).get("text", "")]
    assert len(holding) == 1
    assert (
        "Adoption" in holding[0]["text"]["text"] and "an owner on our side (ongoing csm)" in holding[0]["text"]["text"]
    )
    assign = holding[0]["accessory"]
    assert assign["action_id"] == Action.MILESTONE_ASSIGN

    # A customer can't use it; the CSM gets the reassign form, and names the ongoing CSM there.
    click(h, Action.MILESTONE_ASSIGN, assign["value"], CUSTOMER_CHAMPION, kickoff)
    assert "Only the vendor's team" in h.fake.wait_for("response_url", count=answers + 2).args["text"]
    opened = len(h.fake.calls_to("views.open"))
    click(h, Action.MILESTONE_ASSIGN, assign["value"], VENDOR_CSM, kickoff)
    form = h.fake.view(h.fake.wait_for("views.open", count=opened + 1).response["view"]["id"])
    customer_select = next(b for b in form["blocks"] if b.get("block_id") == Field.CUSTOMER_OWNER)
    keep = customer_select["element"]["initial_option"]["value"]
    reply = h.slack.view_submission(
        form,
        state(
            {
                Field.CUSTOMER_OWNER: {"type": "static_select", "selected_option": {"value": keep}},
                Field.VENDOR_OWNER: user(ONGOING),
            }
        ),
        user_id=VENDOR_CSM,
    )
    assert reply.status == 200 and not reply.text
    h.settle()
    with session_scope(h.engine) as s:
        owner = s.get(Person, s.get(Milestone, handoff.id).vendor_owner_id)
    assert owner.slack_user_id == ONGOING and owner.role == "ongoing_csm"
    with session_scope(h.engine) as s:
        named = s.exec(select(AuditEntry).where(AuditEntry.entity == "person", AuditEntry.entity_id == owner.id)).one()
    assert named.action == "added" and named.field == "ongoing_csm" and named.actor == VENDOR_CSM

    _move_on(h, ob.id, Stage.KICKOFF, Stage.SETUP)
    with session_scope(h.engine) as s:
        assert s.get(Onboarding, ob.id).stage == "setup"


def test_the_handoff_names_the_ongoing_csm_as_owner_of_the_handoff_milestones(harness):
    ob = _standard_60(harness, ongoing_csm=user(ONGOING))
    with session_scope(harness.engine) as s:
        ongoing = s.exec(select(Person).where(Person.onboarding_id == ob.id, Person.role == "ongoing_csm")).one()
        handoff = s.exec(
            select(Milestone).where(Milestone.onboarding_id == ob.id, Milestone.key == "handoff_done")
        ).one()
    assert ongoing.slack_user_id == ONGOING and handoff.vendor_owner_id == ongoing.id


def _my_tasks(h: Harness, c: PostedCard, user_id: str) -> list[dict[str, Any]]:
    answers = len(h.fake.calls_to("response_url"))
    click(h, Action.MY_TASKS, _control(shown(h, c), Action.MY_TASKS), user_id, c)
    return h.fake.wait_for("response_url", count=answers + 1).args["blocks"]


def test_my_tasks_offers_each_reader_only_what_they_may_do(harness):
    h = harness
    ob = _standard_60(h)
    c = card(h, ob.id, "stage", "pre_kickoff")

    theirs = as_text(_my_tasks(h, c, CUSTOMER_CHAMPION))
    assert milestone(h, ob.id, "intake_received").title in theirs
    assert "Mark done" in theirs
    for vendor_only in ("Change due date", "Reassign", Action.MILESTONE_MENU, "Assign owner", "Needs an owner"):
        assert vendor_only not in theirs

    ours = _my_tasks(h, c, VENDOR_CSM)
    text = as_text(ours)
    assert "Change due date" in text and "Reassign" in text
    # The CSM also sees what has no owner yet, in any stage, with the fix.
    assert "Needs an owner" in text and milestone(h, ob.id, "handoff_done").title in text
    assert button_values({"blocks": ours}, Action.MILESTONE_ASSIGN) == [] and any(
        b.get("accessory", {}).get("action_id") == Action.MILESTONE_ASSIGN for b in ours
    )


def test_the_default_contract_date_is_today_where_the_customer_is(harness):
    # 01:30 UTC on Tue 5 May is still Mon 4 May, 21:30, in New York.
    with freeze_time("2026-05-05 01:30:00", tick=True):
        flow = HandoffFlow(harness)
        flow.open()
        offered = next(b for b in flow.view["blocks"] if b.get("block_id") == Field.CONTRACT_SIGNED)
        default = offered["element"]["initial_date"]
        assert default == "2026-05-05", "the form is drawn before the customer's zone is known"
        reply = flow.submit(basics(contract_signed=day(default), timezone=choice("America/New_York")))
        assert reply.status == 200 and flow.step == View.HANDOFF_TEAM, reply.text
        draft = HandoffDraft.from_metadata(harness.services.seal.open(flow.view["private_metadata"]))
    assert draft.contract_signed == "2026-05-04", "the untouched default is today in New York"

    with freeze_time("2026-05-05 01:30:00", tick=True):
        flow = HandoffFlow(harness)
        flow.open()
        picked = flow.submit(basics(contract_signed=day("2026-05-06"), timezone=choice("America/New_York")))
    assert "can't be in the future" in picked.json["errors"][Field.CONTRACT_SIGNED], "a date picked by hand is checked"


def test_choosing_self_serve_says_what_was_chosen(harness):
    with freeze_time("2026-05-01 15:00:00", tick=True):
        flow = HandoffFlow(harness)
        flow.open()
        chosen = flow.submit(basics(acv=text("$120K"), tier=choice("0"))).json["errors"][Field.TIER]
        flow = HandoffFlow(harness)
        flow.open()
        small = flow.submit(basics(acv=text("500"))).json["errors"][Field.TIER]
    assert "You chose Level 0 · self-serve" in chosen and "$120,000" in chosen
    assert "Level 3 · white-glove enterprise" in chosen and "Under $1,000" not in chosen
    assert "Under $1,000 a year this customer is self-serve" in small


def test_the_add_milestone_form_is_acknowledged_before_anything_is_written(harness):
    from tests.test_acks import ACK_WITHIN, LOCK_FOR, _timed, milestones_locked

    h = harness
    ob = start_onboarding(h)
    opened = len(h.fake.calls_to("views.open"))
    h.slack.command("milestone add", user_id=VENDOR_CSM, channel_id=SHARED_CHANNEL)
    form = h.fake.view(h.fake.wait_for("views.open", count=opened + 1).response["view"]["id"])
    values = state(
        {
            Field.MILESTONE_TITLE: text("VPN allow-list in place for 3 offices"),
            Field.MILESTONE_STAGE: choice("setup"),
            Field.MILESTONE_TRACK: choice("it"),
            Field.MILESTONE_START: day("2026-05-04"),
            Field.MILESTONE_DUE: day("2026-05-07"),
            Field.CUSTOMER_OWNER: choice("champion"),
            Field.VENDOR_OWNER: choice("implementation_csm"),
            Field.MILESTONE_CLIENT_VERIFIED: {"type": "checkboxes", "selected_options": []},
        }
    )
    with milestones_locked(h.engine, LOCK_FOR):
        reply, took = _timed(lambda: h.slack.view_submission(form, values, user_id=VENDOR_CSM))
    assert reply.status == 200 and not reply.text and took < ACK_WITHIN
    told = h.fake.wait_for("chat.postMessage", lambda c: c.args.get("channel") == VENDOR_CSM)
    assert "Added to the plan" in told.args["text"]
    with session_scope(h.engine) as s:
        added = s.exec(select(Milestone).where(Milestone.onboarding_id == ob.id, Milestone.stage == "setup"))
        assert "VPN allow-list in place for 3 offices" in {m.title for m in added}

    # Bad input is still answered inline, before anything is written.
    bad = h.slack.view_submission(form, {**values, Field.MILESTONE_TITLE: {Field.MILESTONE_TITLE: text("")}},
                                  user_id=VENDOR_CSM)  # fmt: skip
    assert bad.json["response_action"] == "errors" and Field.MILESTONE_TITLE in bad.json["errors"]


def test_a_refused_move_from_go_live_points_at_the_sign_off_card(harness):
    from tests.test_stages import _ready_to_sign, _to_go_live

    h = harness
    ob = _to_go_live(h)
    _ready_to_sign(h, ob.id)
    go_live, signoff = card(h, ob.id, "stage", "go_live"), card(h, ob.id, "signoff")
    answers = len(h.fake.calls_to("response_url"))
    click(h, Action.STAGE_ADVANCE, _control(shown(h, go_live), Action.STAGE_ADVANCE), VENDOR_CSM, go_live)
    refused = h.fake.wait_for("response_url", count=answers + 1).args
    holding = [b for b in refused["blocks"] if milestone(h, ob.id, "go_live_signed").title in as_text(b)]
    assert len(holding) == 1 and "sign-off card" in holding[0]["text"]["text"]
    assert f"/p{signoff.ts.replace('.', '')}" in holding[0]["accessory"]["url"]


def test_a_refusal_with_many_milestones_needing_owners_stays_within_slacks_limits(harness):
    from bot.core.payloads import StageRef
    from tests.test_stages import _finish_in_db, _move_to

    h = harness
    ob = start_onboarding(
        h,
        basics_=basics(playbook=choice("enterprise_90"), target_go_live=day("2026-10-30")),
        team_=team(technical_lead={"type": "users_select", "selected_user": None}),
        customer_=customer(
            executive_sponsor=person("executive_sponsor"),
            project_owner=person("project_owner"),
            day_to_day_owner=person("day_to_day_owner"),
            it_contact=person("it_contact"),
            project_owner_fit=(),
        ),
    )
    _finish_in_db(h, ob.id, "pre_kickoff", "kickoff")
    _move_to(h, ob.id, "kickoff")
    with session_scope(h.engine) as s:
        unowned = s.exec(
            select(Milestone).where(
                Milestone.onboarding_id == ob.id,
                (Milestone.customer_owner_id.is_(None)) | (Milestone.vendor_owner_id.is_(None)),  # type: ignore[union-attr]
            )
        ).all()
    assert len(unowned) > 12
    c = card(h, ob.id, "stage", "pre_kickoff")
    click(h, Action.STAGE_ADVANCE, StageRef(ob.id, Stage.KICKOFF).encode(), VENDOR_CSM, c)
    refused = h.fake.wait_for("response_url").args
    assigns = [b for b in refused["blocks"] if b.get("accessory", {}).get("action_id") == Action.MILESTONE_ASSIGN]
    assert len(assigns) == 12 and f"and {len(unowned) - 12} more" in as_text(refused["blocks"])
    # Slack refuses messages of much more than ~13k characters of blocks; the harness checks the rest.
    assert len(as_text(refused["blocks"])) < 11_000
