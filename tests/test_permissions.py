"""The permission table, cell by cell, and the requests that used to get through it."""

from __future__ import annotations

import json
import threading

import pytest
from freezegun import freeze_time
from sqlmodel import select

from bot.core.domain import Act, Side
from bot.core.ids import Action, Field, View
from bot.core.payloads import MilestoneForm, MilestoneRef, NoticeRef, OnboardingRef, SnoozeChoice, SnoozeSpan
from bot.milestones.permissions import ALLOWED, Person, Standing, refusal, standing
from store.db import session_scope
from store.models import Milestone, Onboarding, Snooze
from store.models import Person as PersonRow
from tests.cards_helpers import card, click, milestone, ref, start_onboarding
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_SPONSOR, CUSTOMER_TEAM, SHARED_CHANNEL, VENDOR_CSM
from tests.handoff_flow import HandoffFlow, basics, customer, state, story, team
from tests.test_outbox import make_onboarding

V, OV, W, C, X, U = (Standing.VENDOR_TEAM, Standing.OTHER_VENDOR, Standing.OWNER, Standing.CUSTOMER,
                     Standing.OUTSIDER, Standing.UNKNOWN)  # fmt: skip
COLUMNS = (V, OV, W, C, X, U)
# Written out again, by hand, so a change to the table in the code must be made here too.
EXPECTED = {
    Act.START: "Y . Y . . .",
    Act.DONE: "Y . Y . . .",
    Act.BLOCK: "Y . Y . . .",
    Act.UNBLOCK: "Y . Y . . .",
    Act.CONFIRM: ". . Y . . .",
    Act.REJECT: ". . Y . . .",
    Act.CHANGE_DUE: "Y . . . . .",
    Act.REASSIGN: "Y . . . . .",
    Act.ADD_MILESTONE: "Y . . . . .",
    Act.ADVANCE_STAGE: "Y . . . . .",
    Act.COMPLETE: "Y . . . . .",
    Act.SIGN_OFF: ". . Y Y . .",
    Act.COUNTERSIGN: "Y . . . . .",
    Act.OVERRIDE_GATE: "Y . . . . .",
    Act.SNOOZE: "Y . Y . . .",
    Act.PICK_UP: "Y . . . . .",
    Act.MY_TASKS: "Y Y Y Y . .",
    Act.REPOST_SETUP: "Y . . . . .",
    Act.RATE: ". . Y Y . .",
    Act.REMIND_PUBLICLY: "Y . . . . .",
    Act.HAND_OVER: "Y . . . . .",
    Act.ACCEPT_HANDOFF: "Y . . . . .",
}
CELLS = [(act, who, row.split()[i] == "Y") for act, row in EXPECTED.items() for i, who in enumerate(COLUMNS)]


def test_every_act_is_in_the_table():
    assert set(EXPECTED) == set(Act) == set(ALLOWED)


@pytest.mark.parametrize(("act", "who", "allowed"), CELLS, ids=[f"{a.value}-{w.value}" for a, w, _ in CELLS])
def test_each_cell(act, who, allowed):
    said = refusal(act, who)
    assert (said is None) is allowed
    if not allowed:
        assert said and said.endswith((".", "*.")), "a refusal says what is going on, in a sentence"


PEOPLE = [
    Person(1, "vendor", "implementation_csm", "U0CSM"),
    Person(2, "customer", "champion", "U0CHAMPION"),
    Person(3, "customer", "executive_sponsor", "U0SPONSOR"),
    Person(4, "customer", "project_owner", "U0PO"),
    Person(5, "customer", "it_contact", None),  # named, not in Slack
]


@pytest.mark.parametrize(
    ("user", "side", "owner", "expected"),
    [
        ("U0CSM", Side.VENDOR, 2, V),
        ("U0OTHERVENDOR", Side.VENDOR, 2, OV),
        ("U0CHAMPION", Side.CUSTOMER, 2, W),
        ("U0SPONSOR", Side.CUSTOMER, 2, C),
        ("U0PO", Side.CUSTOMER, 5, W),  # the project owner stands in for an owner not in Slack
        ("U0CHAMPION", Side.CUSTOMER, 5, C),  # nobody else does
        ("U0THIRDCO", Side.CUSTOMER, 2, X),  # another team in the channel, or another customer's people
        ("U0CHAMPION", None, 2, U),  # no team id
        ("", Side.CUSTOMER, 2, U),  # no user id
        ("U0CSM", Side.CUSTOMER, 2, X),  # a vendor id claimed from another team is nobody here
    ],
)
def test_standing(user, side, owner, expected):
    assert standing(user, side, PEOPLE, customer_owner_id=owner) is expected


# -- the same, over signed requests -----------------------------------------------------------------


@pytest.fixture
def ob(harness):
    return start_onboarding(harness)


def _awaiting(h, ob_id: int, key: str) -> MilestoneRef:
    with session_scope(h.engine) as s:
        m = s.exec(select(Milestone).where(Milestone.onboarding_id == ob_id, Milestone.key == key)).one()
        m.status, m.version = "awaiting_confirmation", m.version + 1
        s.add(m)
    return ref(h, ob_id, key)


def _answer(h, before: int) -> str:
    return h.fake.wait_for("response_url", count=before + 1).args.get("text", "")


@pytest.mark.parametrize(
    ("user", "team"),
    [
        (CUSTOMER_CHAMPION, CUSTOMER_TEAM),  # a customer-side bystander
        ("U0THIRDCO", "T0THIRDCO"),  # a user of a third company in the channel
        (CUSTOMER_SPONSOR, None),  # the owner's own id, but no team id
    ],
    ids=["bystander", "third-team", "no-team"],
)
def test_only_the_customer_owner_confirms(harness, ob, user, team):
    r = _awaiting(harness, ob.id, "project_owner_named")  # the sponsor's; the customer confirms it
    c = card(harness, ob.id, "stage", "pre_kickoff")
    for action in (Action.MILESTONE_CONFIRM, Action.MILESTONE_REJECT):
        before = len(harness.fake.calls_to("response_url"))
        harness.slack.block_action(action, user_id=user, team_id=team, value=r.encode(), channel_id=c.channel_id,
                                   message_ts=c.ts)  # fmt: skip
        assert _answer(harness, before)
        assert not harness.fake.calls_to("views.open")[1:], "no form opens for them"
    m = milestone(harness, ob.id, "project_owner_named")
    assert m.status == "awaiting_confirmation" and m.confirmed_by is None and m.version == r.version

    click(harness, Action.MILESTONE_CONFIRM, r.encode(), CUSTOMER_SPONSOR, c)
    harness.settle()
    m = milestone(harness, ob.id, "project_owner_named")
    assert m.status == "done" and m.confirmed_by == CUSTOMER_SPONSOR


def test_my_tasks_for_another_customers_onboarding_is_refused(harness, ob):
    before = len(harness.fake.calls_to("response_url"))
    harness.slack.block_action(
        Action.MY_TASKS,
        user_id="U0THIRDCO",
        team_id="T0THIRDCO",
        value=OnboardingRef(ob.id).encode(),
        channel_id=SHARED_CHANNEL,
        message_ts="1.1",
    )
    answer = harness.fake.wait_for("response_url", count=before + 1).args
    assert "another organisation" in answer["text"] and "blocks" not in answer


def test_a_click_from_another_channel_is_not_applied(harness, ob):
    r = ref(harness, ob.id, "intake_received")
    harness.fake.add_channel("C0ELSEWHERE", name="elsewhere", members=(VENDOR_CSM,))
    before = len(harness.fake.calls_to("response_url"))
    harness.slack.block_action(Action.MILESTONE_START, user_id=VENDOR_CSM, value=r.encode(), channel_id="C0ELSEWHERE",
                               message_ts="1.1")  # fmt: skip
    assert "another channel" in _answer(harness, before)
    assert milestone(harness, ob.id, "intake_received").version == r.version


def test_a_snooze_the_post_never_offered_is_refused(harness, ob):
    before = len(harness.fake.calls_to("response_url"))
    choice = SnoozeChoice.of(NoticeRef(ob.id, "blocked", "intake_received"), SnoozeSpan.THREE_DAYS)
    harness.slack.block_action(
        Action.NUDGE_SNOOZE,
        user_id=VENDOR_CSM,
        channel_id=SHARED_CHANNEL,
        message_ts="1.1",
        selected={"type": "static_select", "selected_option": {"value": choice.encode()}},
    )
    assert "couldn't read" in _answer(harness, before)
    with session_scope(harness.engine) as s:
        assert not list(s.exec(select(Snooze)))


def test_reassign_to_a_person_of_another_onboarding_is_refused(harness, ob):
    other_id = make_onboarding(harness.engine, customer="Globex")
    with session_scope(harness.engine) as s:
        stranger = s.exec(select(PersonRow).where(PersonRow.onboarding_id == other_id,
                                                  PersonRow.side == "customer")).first()  # fmt: skip
    r = ref(harness, ob.id, "intake_received")
    # The form the bot opened (its metadata sealed), with an option the bot never offered.
    sealed = harness.services.seal.seal(MilestoneForm(ob.id, r.milestone_id, r.version, SHARED_CHANNEL).encode())
    view = {"id": "V0FORGED", "type": "modal", "callback_id": View.MILESTONE_REASSIGN, "private_metadata": sealed,
            "blocks": [{"type": "input", "block_id": Field.CUSTOMER_OWNER}]}  # fmt: skip
    fields = {
        Field.CUSTOMER_OWNER: {"type": "static_select", "selected_option": {"value": str(stranger.id)}},
        Field.VENDOR_OWNER: {"type": "users_select", "selected_user": VENDOR_CSM},
    }
    reply = harness.slack.view_submission(view, state(fields), user_id=VENDOR_CSM)
    assert reply.status == 200 and not reply.text, "the form closes; the change is made after"
    told = harness.fake.wait_for("chat.postEphemeral")
    assert told.args["user"] == VENDOR_CSM and "isn't one of this customer's people" in told.args["text"]
    harness.settle()
    assert milestone(harness, ob.id, "intake_received").version == r.version


def _to_the_last_step(harness) -> HandoffFlow:
    flow = HandoffFlow(harness)
    flow.open()
    for fields in (basics(), team(), customer()):
        assert flow.submit(fields).status == 200
    assert flow.step == View.HANDOFF_STORY
    return flow


@freeze_time("2026-05-01 15:00:00", tick=True)
def test_a_forged_handoff_draft_is_refused_and_nothing_is_created(harness):
    flow = _to_the_last_step(harness)
    draft, _, mac = flow.view["private_metadata"].rpartition("~")
    forged = json.loads(draft)
    forged["shared_channel_id"] = forged["internal_channel_id"]  # the internal notes into the shared channel
    for metadata in (json.dumps(forged), f"{json.dumps(forged)}~{mac}"):
        flow.view = {**flow.view, "private_metadata": metadata}
        reply = flow.submit(story())
        assert reply.json["response_action"] == "errors" and "out of date" in str(reply.json["errors"])
    harness.settle()
    with session_scope(harness.engine) as s:
        assert not list(s.exec(select(Onboarding)))
    assert not harness.fake.calls_to("chat.postMessage")


@freeze_time("2026-05-01 15:00:00", tick=True)
def test_the_last_step_sent_twice_and_replayed_creates_one_onboarding(harness):
    flow = _to_the_last_step(harness)
    last = dict(flow.view)
    threads = [threading.Thread(target=lambda: HandoffFlow(harness, view=dict(last)).submit(story())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    HandoffFlow(harness, view=dict(last)).submit(story())  # replayed later
    harness.settle()
    with session_scope(harness.engine) as s:
        assert len(list(s.exec(select(Onboarding)))) == 1
    welcomes = [c for c in harness.fake.calls_to("chat.postMessage") if c.args.get("text", "").startswith("Welcome")]
    assert len(welcomes) == 1
    results = [c.args["view"] for c in harness.fake.calls_to("views.update")]
    assert sum("already has an onboarding" in json.dumps(v) for v in results) == 2
