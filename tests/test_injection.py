"""Person-typed text never pings, mentions or links in the channel shared with the customer.

Each injection string is typed into every text that reaches the shared channel: the handoff's
fields (welcome, plan overview, cards), a milestone title added to a live plan, a blocked reason
and who can unblock it, a "not yet" reason and a due-date change reason. No post or edit to the
shared channel may then carry the raw string where Slack reads mrkdwn (the message's `text` and
every text object of its blocks but plain_text ones, which Slack never parses), and the escaped
form shows instead.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from bot.core.domain import Act, Stage
from bot.core.ids import Action, Field, View
from bot.core.notices import Audience, Rule
from bot.core.payloads import MilestoneChoice
from messages import automated_posts, cards, handoff_posts
from messages.blocks import esc
from store.db import session_scope
from store.models import Notification
from store.onboardings import load
from tests.cards_helpers import card, click, ref, start_onboarding
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_SPONSOR, SHARED_CHANNEL, VENDOR_AE, VENDOR_CSM, Harness
from tests.handoff_flow import basics, customer, person, state, story, text

INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0CSM>",
    "<https://evil.example|Reset your password>",
]
# The bot itself mentions the CSM on its cards, so "<@U0CSM>" alone can't be looked for; each typed
# text ends in a tag naming its field, and the raw string with its tag must not show.
LEGITIMATE = {"<@U0CSM>"}


def typed(injection: str, where: str) -> str:
    return f"{injection} #{where}"


def _mrkdwn_only(value: Any) -> Any:
    """Blocks without their plain_text objects (headers, buttons, options): Slack parses no markup there."""
    if isinstance(value, dict):
        if value.get("type") == "plain_text":
            return None
        return {k: _mrkdwn_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mrkdwn_only(v) for v in value]
    return value


def _blocks(args: dict[str, Any]) -> Any:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def shared_posts(h: Harness) -> list[dict[str, Any]]:
    """Every post and edit to the shared channel, as {"text", "blocks"} where Slack reads mrkdwn."""
    return [
        {"text": call.args.get("text") or "", "blocks": _mrkdwn_only(_blocks(call.args))}
        for method in ("chat.postMessage", "chat.update")
        for call in h.fake.calls_to(method)
        if call.args.get("channel") == SHARED_CHANNEL
    ]


def _seen(h: Harness) -> str:
    return "\n".join(json.dumps(post, ensure_ascii=False) for post in shared_posts(h))


def assert_inert(h: Harness, injection: str, *wheres: str, shown: tuple[str, ...] | None = None) -> None:
    """No raw typed text in the shared channel; the escaped form of each of `shown` (default: all) is there."""
    seen = _seen(h)
    for where in wheres:
        assert typed(injection, where) not in seen, f"raw {where} reached the shared channel"
    if injection not in LEGITIMATE:
        assert injection not in seen
    for where in wheres if shown is None else shown:
        assert esc(typed(injection, where)) in seen, f"the escaped {where} is not shown"


def _wait_shared(h: Harness, needle: str, *, thread: bool = False) -> None:
    def shows(call) -> bool:
        if call.args.get("channel") != SHARED_CHANNEL or (thread and not call.args.get("thread_ts")):
            return False
        return needle in json.dumps(call.args, ensure_ascii=False)

    h.fake.wait_for("chat.postMessage" if thread else "chat.update", shows)


def _open(h: Harness, before: int) -> dict[str, Any]:
    call = h.fake.wait_for("views.open", count=before + 1)
    return h.fake.view(call.response["view"]["id"])


injections = pytest.mark.parametrize("injection", INJECTIONS)


@injections
def test_handoff_fields(harness, injection):
    named = {
        role: person(role, name=typed(injection, role), email=f"{role}@acme.example")
        for role in ("project_owner", "day_to_day_owner", "it_contact")
    }
    start_onboarding(
        harness,
        customer_=customer(**named),
        story_=story(
            success_criteria=typed(injection, "criteria"),
            first_value_definition=typed(injection, "first_value"),
            commitments=typed(injection, "commitments"),
        ),
    )
    # The commitments stay internal; the people show where they own what is coming up.
    assert_inert(
        harness,
        injection,
        "criteria",
        "first_value",
        "commitments",
        *named,
        shown=("criteria", "first_value", "project_owner"),
    )


@injections
def test_customer_name_blocks(harness, injection):
    start_onboarding(harness, basics_=basics(customer_name=text(typed(injection, "customer"))))
    seen = "\n".join(json.dumps(post["blocks"], ensure_ascii=False) for post in shared_posts(harness))
    assert typed(injection, "customer") not in seen
    if injection not in LEGITIMATE:
        assert injection not in seen


@injections
def test_customer_name_in_notification_texts(harness, injection):
    start_onboarding(harness, basics_=basics(customer_name=text(typed(injection, "customer"))))
    assert_inert(harness, injection, "customer")


@injections
def test_milestone_title_added_to_a_live_plan(harness, injection):
    ob = start_onboarding(harness)
    opened = len(harness.fake.calls_to("views.open"))
    harness.slack.command("milestone add", user_id=VENDOR_CSM, channel_id=SHARED_CHANNEL)
    view = _open(harness, opened)
    assert view["callback_id"] == View.MILESTONE_ADD
    title = typed(injection, "title")
    values = {
        Field.MILESTONE_TITLE: text(title),
        Field.MILESTONE_STAGE: {"type": "static_select", "selected_option": {"value": Stage.PRE_KICKOFF.value}},
        Field.MILESTONE_TRACK: {"type": "static_select", "selected_option": {"value": "it"}},
        Field.MILESTONE_START: {"type": "datepicker", "selected_date": "2026-05-04"},
        Field.MILESTONE_DUE: {"type": "datepicker", "selected_date": "2026-05-07"},
        Field.CUSTOMER_OWNER: {"type": "static_select", "selected_option": {"value": "champion"}},
        Field.VENDOR_OWNER: {"type": "static_select", "selected_option": {"value": "implementation_csm"}},
    }
    ok = harness.slack.view_submission(view, state(values), user_id=VENDOR_CSM)
    assert ok.text == ""
    _wait_shared(harness, esc(title))
    _wait_shared(harness, esc(title), thread=True)
    assert card(harness, ob.id, "stage", Stage.PRE_KICKOFF.value)
    assert_inert(harness, injection, "title")


@injections
def test_blocked_reason_and_who_can_unblock(harness, injection):
    ob = start_onboarding(harness)
    c = card(harness, ob.id, "stage", Stage.PRE_KICKOFF.value)
    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.MILESTONE_BLOCK, ref(harness, ob.id, "intake_received").encode(), CUSTOMER_CHAMPION, c)
    view = _open(harness, opened)
    values = {
        Field.BLOCKED_WHAT: text(typed(injection, "what")),
        Field.BLOCKED_WHO: text(typed(injection, "who")),
    }
    reply = harness.slack.view_submission(view, state(values), user_id=CUSTOMER_CHAMPION, team_id="T0CUSTOMER")
    assert reply.text == ""
    _wait_shared(harness, esc(typed(injection, "who")))
    _wait_shared(harness, esc(typed(injection, "what")), thread=True)
    assert_inert(harness, injection, "what", "who")


@injections
def test_not_yet_reason(harness, injection):
    ob = start_onboarding(harness)
    c = card(harness, ob.id, "stage", Stage.PRE_KICKOFF.value)
    key = "project_owner_named"
    click(harness, Action.MILESTONE_DONE, ref(harness, ob.id, key).encode(), VENDOR_AE, c)
    harness.fake.wait_for("chat.postMessage", lambda call: "could you confirm" in (call.args.get("text") or ""))
    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.MILESTONE_REJECT, ref(harness, ob.id, key).encode(), CUSTOMER_SPONSOR, c)
    view = _open(harness, opened)
    reason = typed(injection, "not_yet")
    reply = harness.slack.view_submission(
        view, state({Field.REJECT_REASON: text(reason)}), user_id=CUSTOMER_SPONSOR, team_id="T0CUSTOMER"
    )
    assert reply.text == ""
    _wait_shared(harness, esc(reason), thread=True)
    assert_inert(harness, injection, "not_yet")


@injections
def test_due_date_change_reason(harness, injection):
    ob = start_onboarding(harness)
    c = card(harness, ob.id, "stage", Stage.PRE_KICKOFF.value)
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
    reason = typed(injection, "due")
    values = {Field.NEW_DUE: {"type": "datepicker", "selected_date": "2026-05-08"}, Field.DUE_REASON: text(reason)}
    reply = harness.slack.view_submission(view, state(values), user_id=VENDOR_CSM)
    assert reply.text == ""
    _wait_shared(harness, esc(reason), thread=True)
    assert_inert(harness, injection, "due")


@injections
def test_notification_texts_from_messages_escape_the_customer_name(harness, injection):
    name = typed(injection, "customer")
    ob = start_onboarding(harness, basics_=basics(customer_name=text(name)))
    with session_scope(harness.engine) as s:
        record = load(s, ob.id)
    texts = [
        cards.stage_card_text(record, Stage.PRE_KICKOFF),
        cards.signoff_card_text(record),
        handoff_posts.welcome_text(record),
        handoff_posts.plan_overview_text(record),
        handoff_posts.internal_summary_text(record),
        handoff_posts.internal_story_text(record),
    ]
    for said in texts:
        assert name not in said and esc(name) in said


@injections
def test_automated_posts_keep_mentions_and_escape_typed_names_and_reasons(injection):
    facts = {
        "customer_name": typed(injection, "customer"),
        "title": typed(injection, "title"),
        "blocked_reason": typed(injection, "reason"),
        "days_blocked": 3,
        "customer_owner": typed(injection, "owner"),
        "vendor_owner": "<@U0CSM>",
        "executive_sponsor": "<@U0SPONSOR>",
        "due_on": date(2026, 5, 8).isoformat(),
    }
    seen = {}
    for rule in (Rule.BLOCKED, Rule.DUE_SOON):
        row = Notification(
            dedupe_key=f"{rule}.1",
            onboarding_id=1,
            rule=rule,
            subject="1",
            recipient=SHARED_CHANNEL,
            channel_id=SHARED_CHANNEL,
            audience=Audience.SHARED,
            payload={"facts": facts},
        )
        message = automated_posts.render([row])
        seen[rule] = json.dumps({"text": message.text, "blocks": _mrkdwn_only(message.blocks)}, ensure_ascii=False)
        for where in ("title", "reason", "owner"):
            assert typed(injection, where) not in seen[rule]
        if injection not in LEGITIMATE:
            assert injection not in seen[rule]
        assert esc(typed(injection, "title")) in seen[rule]
    assert esc(typed(injection, "reason")) in seen[Rule.BLOCKED] and "<@U0SPONSOR>, could" in seen[Rule.BLOCKED]
    assert esc(typed(injection, "owner")) in seen[Rule.DUE_SOON] and "<@U0CSM>" in seen[Rule.DUE_SOON]
