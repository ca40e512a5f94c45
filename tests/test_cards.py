"""Milestone cards in the shared channel: clicks by both sides, edits in place, stale and lost clicks."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from bot.core.domain import Act
from bot.core.ids import Action, Field, View
from bot.core.payloads import MilestoneChoice, MilestoneRef, OnboardingRef
from store.db import session_scope
from store.models import AuditEntry, Milestone, Onboarding
from tests.cards_helpers import as_text, button_values, card, click, milestone, ref, shown, start_onboarding
from tests.conftest import (
    CUSTOMER_CHAMPION,
    CUSTOMER_SPONSOR,
    SHARED_CHANNEL,
    VENDOR_AE,
    VENDOR_CSM,
)
from tests.handoff_flow import state, text


@pytest.fixture
def ob(harness) -> Onboarding:
    return start_onboarding(harness)


def _top_level_posts(h) -> int:
    return sum(1 for c in h.fake.calls_to("chat.postMessage") if not c.args.get("thread_ts"))


def _answered(h, before: int) -> str:
    return h.fake.wait_for("response_url", count=before + 1).args.get("text", "")


def _updated(h, c, before: int):
    return h.fake.wait_for("chat.update", lambda call: call.args["ts"] == c.ts, count=before + 1)


def _updates(h, c) -> int:
    return sum(1 for call in h.fake.calls_to("chat.update") if call.args["ts"] == c.ts)


def test_first_stage_card_shows_milestones_owners_dates_and_exit_criteria(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    message = as_text(shown(harness, c))
    assert c.channel_id == SHARED_CHANNEL
    assert "Pre-kickoff · Acme Corp" in message
    intake = milestone(harness, ob.id, "intake_received")
    assert intake.title in message and "<@U0CHAMPION>" in message and "<@U0CSM>" in message
    assert "due Fri 01 May" in message or "due Tue 05 May" in message
    assert "To move on from this stage" in message
    assert button_values(shown(harness, c), Action.MILESTONE_START)


def test_start_edits_the_card_in_place_and_records_history_in_its_thread(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    posts, updates = _top_level_posts(harness), _updates(harness, c)
    r = ref(harness, ob.id, "intake_received")

    click(harness, Action.MILESTONE_START, r.encode(), VENDOR_CSM, c)

    _updated(harness, c, updates)
    harness.fake.wait_for(
        "chat.postMessage", lambda call: call.args.get("thread_ts") == c.ts and "started" in call.args["text"]
    )
    assert _top_level_posts(harness) == posts, "a click never adds a message to the channel"
    m = milestone(harness, ob.id, "intake_received")
    assert m.status == "in_progress" and m.version == r.version + 1
    assert "In progress" in as_text(shown(harness, c))
    overview = card(harness, ob.id, "overview")
    assert any(call.args["ts"] == overview.ts for call in harness.fake.calls_to("chat.update"))


MENU_ACTS = {"due": Act.CHANGE_DUE, "reassign": Act.REASSIGN}

# (who clicks, their action) -> applied, modal (a form opens), or refused.
MATRIX = [
    (VENDOR_CSM, Action.MILESTONE_START, "applied"),
    (VENDOR_CSM, Action.MILESTONE_DONE, "applied"),
    (VENDOR_CSM, Action.MILESTONE_BLOCK, "modal"),
    (VENDOR_CSM, "due", "modal"),
    (VENDOR_CSM, "reassign", "modal"),
    (VENDOR_CSM, Action.MILESTONE_CONFIRM, "refused"),
    (CUSTOMER_CHAMPION, Action.MILESTONE_START, "applied"),
    (CUSTOMER_CHAMPION, Action.MILESTONE_DONE, "applied"),
    (CUSTOMER_CHAMPION, Action.MILESTONE_BLOCK, "modal"),
    (CUSTOMER_CHAMPION, "due", "refused"),
    (CUSTOMER_CHAMPION, "reassign", "refused"),
    (CUSTOMER_CHAMPION, Action.MILESTONE_CONFIRM, "refused"),
    (CUSTOMER_SPONSOR, Action.MILESTONE_START, "refused"),
    (CUSTOMER_SPONSOR, Action.MILESTONE_DONE, "refused"),
    (CUSTOMER_SPONSOR, Action.MILESTONE_BLOCK, "refused"),
    (CUSTOMER_SPONSOR, "due", "refused"),
    (CUSTOMER_SPONSOR, "reassign", "refused"),
]


@pytest.mark.parametrize(("user", "what", "expected"), MATRIX)
def test_permission_matrix(harness, ob, user, what, expected):
    """intake_received: the champion owns it on the customer's side; the sponsor doesn't."""
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r = ref(harness, ob.id, "intake_received")
    answers, opened, updates = (
        len(harness.fake.calls_to("response_url")),
        len(harness.fake.calls_to("views.open")),
        _updates(harness, c),
    )

    if what in ("due", "reassign"):
        harness.slack.block_action(
            Action.MILESTONE_MENU,
            user_id=user,
            team_id=_team(user),
            channel_id=c.channel_id,
            message_ts=c.ts,
            selected={
                "type": "overflow",
                "selected_option": {"value": MilestoneChoice.of(MENU_ACTS[what], r).encode()},
            },
        )
    else:
        click(harness, what, r.encode(), user, c)

    if expected == "applied":
        _updated(harness, c, updates)
        assert milestone(harness, ob.id, "intake_received").version == r.version + 1
    elif expected == "modal":
        harness.fake.wait_for("views.open", count=opened + 1)
        assert milestone(harness, ob.id, "intake_received").version == r.version
    else:
        assert _answered(harness, answers)
        assert milestone(harness, ob.id, "intake_received").version == r.version
        assert len(harness.fake.calls_to("views.open")) == opened


def _team(user: str):
    from tests.cards_helpers import team_of

    return team_of(user)


def test_client_verified_milestone_waits_for_the_customer(harness, ob):
    """project_owner_named is confirmed by the customer; its customer-side owner is the sponsor."""
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r = ref(harness, ob.id, "project_owner_named")
    updates = _updates(harness, c)
    click(harness, Action.MILESTONE_DONE, r.encode(), VENDOR_AE, c)
    _updated(harness, c, updates)
    m = milestone(harness, ob.id, "project_owner_named")
    assert m.status == "awaiting_confirmation"
    harness.fake.wait_for(
        "chat.postMessage",
        lambda call: call.args.get("thread_ts") == c.ts and "<@U0SPONSOR>, could you confirm" in call.args["text"],
    )

    answers = len(harness.fake.calls_to("response_url"))
    click(harness, Action.MILESTONE_CONFIRM, ref(harness, ob.id, "project_owner_named").encode(), VENDOR_CSM, c)
    assert "customer's side" in _answered(harness, answers)
    assert milestone(harness, ob.id, "project_owner_named").status == "awaiting_confirmation"

    updates = _updates(harness, c)
    click(harness, Action.MILESTONE_CONFIRM, ref(harness, ob.id, "project_owner_named").encode(), CUSTOMER_SPONSOR, c)
    _updated(harness, c, updates)
    m = milestone(harness, ob.id, "project_owner_named")
    assert m.status == "done" and m.confirmed_by == CUSTOMER_SPONSOR


def test_customer_rejects_with_a_reason_and_it_goes_back_to_in_progress(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    updates = _updates(harness, c)
    click(harness, Action.MILESTONE_DONE, ref(harness, ob.id, "project_owner_named").encode(), VENDOR_AE, c)
    _updated(harness, c, updates)
    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.MILESTONE_REJECT, ref(harness, ob.id, "project_owner_named").encode(), CUSTOMER_SPONSOR, c)
    call = harness.fake.wait_for("views.open", count=opened + 1)
    view = harness.fake.view(call.response["view"]["id"])
    assert view["callback_id"] == View.MILESTONE_REJECT

    empty = harness.slack.view_submission(
        view, state({Field.REJECT_REASON: text("")}), user_id=CUSTOMER_SPONSOR, team_id="T0CUSTOMER"
    )
    assert "Say what still needs to happen" in empty.json["errors"][Field.REJECT_REASON]
    updates = _updates(harness, c)
    ok = harness.slack.view_submission(
        view,
        state({Field.REJECT_REASON: text("Pat hasn't agreed yet")}),
        user_id=CUSTOMER_SPONSOR,
        team_id="T0CUSTOMER",
    )
    assert ok.status == 200 and ok.text == ""
    _updated(harness, c, updates)
    assert milestone(harness, ob.id, "project_owner_named").status == "in_progress"
    with session_scope(harness.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "reject")).scalars().first()
    assert entry.reason == "Pat hasn't agreed yet" and entry.actor == CUSTOMER_SPONSOR


def test_stale_click_is_refused_and_the_card_refreshed(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    old = ref(harness, ob.id, "intake_received")
    updates = _updates(harness, c)
    click(harness, Action.MILESTONE_START, old.encode(), VENDOR_CSM, c)
    _updated(harness, c, updates)

    answers, updates = len(harness.fake.calls_to("response_url")), _updates(harness, c)
    click(harness, Action.MILESTONE_DONE, old.encode(), VENDOR_CSM, c)  # the card before the first click
    assert "changed meanwhile" in _answered(harness, answers)
    _updated(harness, c, updates)
    m = milestone(harness, ob.id, "intake_received")
    assert m.status == "in_progress" and m.version == old.version + 1


def test_double_click_applies_once(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r = ref(harness, ob.id, "intake_received")
    answers = len(harness.fake.calls_to("response_url"))
    click(harness, Action.MILESTONE_DONE, r.encode(), VENDOR_CSM, c)
    click(harness, Action.MILESTONE_DONE, r.encode(), VENDOR_CSM, c)
    assert "changed meanwhile" in _answered(harness, answers)
    m = milestone(harness, ob.id, "intake_received")
    assert m.status == "done" and m.version == r.version + 1


def test_two_people_clicking_at_once_never_corrupt_state(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r = ref(harness, ob.id, "intake_received")
    answers = len(harness.fake.calls_to("response_url"))
    go = threading.Barrier(2)

    def press(user: str, action: str) -> None:
        go.wait()
        click(harness, action, r.encode(), user, c)

    threads = [
        threading.Thread(target=press, args=(VENDOR_CSM, Action.MILESTONE_DONE)),
        threading.Thread(target=press, args=(CUSTOMER_CHAMPION, Action.MILESTONE_START)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "changed meanwhile" in _answered(harness, answers)
    m = milestone(harness, ob.id, "intake_received")
    assert m.version == r.version + 1 and m.status in ("done", "in_progress")
    with session_scope(harness.engine) as s:
        changes = (
            s.exec(select(AuditEntry).where(AuditEntry.entity_id == m.id, AuditEntry.field == "status")).scalars().all()
        )
    assert len(changes) == 1, "exactly one of the two clicks was applied"


def test_click_on_a_milestone_that_no_longer_exists(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    answers = len(harness.fake.calls_to("response_url"))
    click(harness, Action.MILESTONE_DONE, MilestoneRef(ob.id, 999_999, 1).encode(), VENDOR_CSM, c)
    assert "no longer exists" in _answered(harness, answers)


def test_click_on_a_deleted_onboarding(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r = ref(harness, ob.id, "intake_received")
    with session_scope(harness.engine) as s:
        s.delete(s.get(Onboarding, ob.id))
    answers = len(harness.fake.calls_to("response_url"))
    click(harness, Action.MILESTONE_DONE, r.encode(), VENDOR_CSM, c)
    assert "no longer exists" in _answered(harness, answers)
    answers = len(harness.fake.calls_to("response_url"))
    click(harness, Action.MY_TASKS, OnboardingRef(ob.id).encode(), CUSTOMER_CHAMPION, c)
    assert "no longer exists" in _answered(harness, answers)


def test_garbled_button_value_gets_a_clear_answer(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    answers = len(harness.fake.calls_to("response_url"))
    click(harness, Action.MILESTONE_DONE, "not-a-ref", VENDOR_CSM, c)
    assert "no longer works" in _answered(harness, answers)


def test_blocked_form_records_what_who_and_since(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.MILESTONE_BLOCK, ref(harness, ob.id, "intake_received").encode(), CUSTOMER_CHAMPION, c)
    call = harness.fake.wait_for("views.open", count=opened + 1)
    view = harness.fake.view(call.response["view"]["id"])
    missing = harness.slack.view_submission(
        view,
        state({Field.BLOCKED_WHAT: text(""), Field.BLOCKED_WHO: text("")}),
        user_id=CUSTOMER_CHAMPION,
        team_id="T0CUSTOMER",
    )
    assert set(missing.json["errors"]) == {Field.BLOCKED_WHAT, Field.BLOCKED_WHO}
    updates = _updates(harness, c)
    values = {
        Field.BLOCKED_WHAT: text("Legal hasn't approved the data processing terms"),
        Field.BLOCKED_WHO: text("Our general counsel"),
        Field.BLOCKED_SINCE: {"type": "datepicker", "selected_date": "2026-05-04"},
    }
    harness.slack.view_submission(view, state(values), user_id=CUSTOMER_CHAMPION, team_id="T0CUSTOMER")
    _updated(harness, c, updates)
    m = milestone(harness, ob.id, "intake_received")
    assert (m.status, m.blocked_unblocker, m.blocked_since) == ("blocked", "Our general counsel", date(2026, 5, 4))
    assert "Legal hasn't approved" in as_text(shown(harness, c))
    unblock = button_values(shown(harness, c), Action.MILESTONE_UNBLOCK)
    assert unblock == [ref(harness, ob.id, "intake_received").encode()]

    updates = _updates(harness, c)
    click(harness, Action.MILESTONE_UNBLOCK, unblock[0], CUSTOMER_CHAMPION, c)
    _updated(harness, c, updates)
    m = milestone(harness, ob.id, "intake_received")
    assert (m.status, m.blocked_reason, m.blocked_since) == ("in_progress", None, None)


def test_when_slack_wont_open_a_form_the_same_action_comes_as_buttons(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    harness.fake.fail_next("views.open", error="not_allowed")
    answers = len(harness.fake.calls_to("response_url"))
    click(harness, Action.MILESTONE_BLOCK, ref(harness, ob.id, "intake_received").encode(), CUSTOMER_CHAMPION, c)
    answer = harness.fake.wait_for("response_url", count=answers + 1).args
    quick = {
        e["action_id"]: e["value"] for blk in answer["blocks"] if blk["type"] == "actions" for e in blk["elements"]
    }
    assert len(quick) == 3
    updates = _updates(harness, c)
    action_id = f"{Action.MILESTONE_QUICK}.customer"
    click(harness, action_id, quick[action_id], CUSTOMER_CHAMPION, c)
    _updated(harness, c, updates)
    m = milestone(harness, ob.id, "intake_received")
    assert m.status == "blocked" and m.blocked_reason == "Waiting on the customer's team"


def test_vendor_changes_a_due_date_with_a_reason(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r = ref(harness, ob.id, "intake_received")
    opened = len(harness.fake.calls_to("views.open"))
    harness.slack.block_action(
        Action.MILESTONE_MENU,
        user_id=VENDOR_CSM,
        channel_id=c.channel_id,
        message_ts=c.ts,
        selected={"type": "overflow", "selected_option": {"value": MilestoneChoice.of(Act.CHANGE_DUE, r).encode()}},
    )
    view = harness.fake.view(harness.fake.wait_for("views.open", count=opened + 1).response["view"]["id"])
    weekend = harness.slack.view_submission(
        view,
        state({Field.NEW_DUE: {"type": "datepicker", "selected_date": "2026-05-09"}, Field.DUE_REASON: text("x")}),
        user_id=VENDOR_CSM,
    )
    assert "weekend" in weekend.json["errors"][Field.NEW_DUE]
    updates = _updates(harness, c)
    harness.slack.view_submission(
        view,
        state(
            {
                Field.NEW_DUE: {"type": "datepicker", "selected_date": "2026-05-08"},
                Field.DUE_REASON: text("Champion on leave"),
            }
        ),
        user_id=VENDOR_CSM,
    )
    _updated(harness, c, updates)
    assert milestone(harness, ob.id, "intake_received").due_on == date(2026, 5, 8)
    harness.fake.wait_for(
        "chat.postMessage", lambda call: call.args.get("thread_ts") == c.ts and "Champion on leave" in call.args["text"]
    )


def test_vendor_reassigns_both_owners(harness, ob):
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r = ref(harness, ob.id, "intake_received")
    opened = len(harness.fake.calls_to("views.open"))
    harness.slack.block_action(
        Action.MILESTONE_MENU,
        user_id=VENDOR_CSM,
        channel_id=c.channel_id,
        message_ts=c.ts,
        selected={"type": "overflow", "selected_option": {"value": MilestoneChoice.of(Act.REASSIGN, r).encode()}},
    )
    view = harness.fake.view(harness.fake.wait_for("views.open", count=opened + 1).response["view"]["id"])
    options = next(blk for blk in view["blocks"] if blk.get("block_id") == Field.CUSTOMER_OWNER)["element"]["options"]
    sponsor = next(o["value"] for o in options if "Sam Sponsor" in o["text"]["text"])
    wrong = harness.slack.view_submission(
        view,
        state(
            {
                Field.CUSTOMER_OWNER: {"type": "static_select", "selected_option": {"value": sponsor}},
                Field.VENDOR_OWNER: {"type": "users_select", "selected_user": CUSTOMER_CHAMPION},
            }
        ),
        user_id=VENDOR_CSM,
    )
    assert "your own team" in wrong.json["errors"][Field.VENDOR_OWNER]
    updates = _updates(harness, c)
    harness.slack.view_submission(
        view,
        state(
            {
                Field.CUSTOMER_OWNER: {"type": "static_select", "selected_option": {"value": sponsor}},
                Field.VENDOR_OWNER: {"type": "users_select", "selected_user": VENDOR_AE},
            }
        ),
        user_id=VENDOR_CSM,
    )
    _updated(harness, c, updates)
    m = milestone(harness, ob.id, "intake_received")
    assert str(m.customer_owner_id) == sponsor
    assert "<@U0SPONSOR>" in as_text(shown(harness, c)) and "<@U0AE>" in as_text(shown(harness, c))


def test_my_tasks_answers_only_the_person_who_asked(harness, ob):
    overview = card(harness, ob.id, "overview")
    assert button_values(shown(harness, overview), Action.MY_TASKS) == [OnboardingRef(ob.id).encode()]
    answers = len(harness.fake.calls_to("response_url"))
    click(harness, Action.MY_TASKS, OnboardingRef(ob.id).encode(), CUSTOMER_CHAMPION, overview)
    answer = harness.fake.wait_for("response_url", count=answers + 1).args
    assert answer["response_type"] == "ephemeral"
    mine = as_text(answer)
    assert milestone(harness, ob.id, "intake_received").title in mine
    assert milestone(harness, ob.id, "project_owner_named").title not in mine, "the sponsor's, not the champion's"

    # Acting from that ephemeral list refreshes the list in place and the card in the channel.
    c = card(harness, ob.id, "stage", "pre_kickoff")
    answers, updates = len(harness.fake.calls_to("response_url")), _updates(harness, c)
    harness.slack.block_action(
        Action.MILESTONE_START,
        user_id=CUSTOMER_CHAMPION,
        team_id="T0CUSTOMER",
        value=ref(harness, ob.id, "intake_received").encode(),
        channel_id=SHARED_CHANNEL,
        message_ts=overview.ts,
    )
    _updated(harness, c, updates)


def test_sixty_milestones_still_fit_slacks_limits(harness, ob):
    with session_scope(harness.engine) as s:
        for i in range(60):
            s.add(
                Milestone(
                    onboarding_id=ob.id,
                    stage="pre_kickoff",
                    key=f"bulk_{i}",
                    title=f"Outcome number {i} " + "x" * 120,
                    track="business",
                    position=100 + i,
                    start_on=date(2026, 5, 4),
                    due_on=date(2026, 5, 29),
                )
            )
    c = card(harness, ob.id, "stage", "pre_kickoff")
    updates = _updates(harness, c)
    click(harness, Action.MILESTONE_START, ref(harness, ob.id, "intake_received").encode(), VENDOR_CSM, c)
    call = _updated(harness, c, updates)
    assert call.ok
    blocks = call.args["blocks"]
    assert len(blocks) <= 50
    assert "more open" in as_text(blocks)
    assert len(as_text(blocks)) < 13_000
    # harness teardown checks every block against Slack's limits
