"""Each shipped playbook played from `/onboard new` to the end of Adoption by its people, through the
bot's own controls, under a clock swept every business hour (the script: tests/playthrough.py).

What the bot posted is kept, one reviewed record per playbook, in tests/data/playthrough_<key>.txt;
regenerate with ONBOARD_UPDATE_SIMULATION=1 and read the diff.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlmodel import select

from bot.core.ids import Action
from store.db import session_scope
from store.models import AuditEntry, Milestone, Notification, Onboarding, Person
from tests.conftest import (
    CUSTOMER_CHAMPION,
    CUSTOMER_SPONSOR,
    INTERNAL_CHANNEL,
    SHARED_CHANNEL,
    VENDOR_AE,
    VENDOR_CSM,
    VENDOR_MANAGER,
)
from tests.playthrough import NEW_YORK, START, Playthrough, local
from tests.test_journey import ONGOING
from tests.test_simulation import _controls

DATA = Path(__file__).with_name("data")
PLAYBOOKS = ["light", "standard_30", "standard_60", "enterprise_90"]
AFTER_GO_LIVE = {
    "post_go_live_check_in", "value_report", "success_story", "expansion_conversation", "first_business_review",
    "expansion_readiness", "executive_summary", "value_play",
}  # fmt: skip
WHERE = {
    SHARED_CHANNEL: "shared",
    INTERNAL_CHANNEL: "internal",
    VENDOR_CSM: "dm csm",
    VENDOR_MANAGER: "dm manager",
    VENDOR_AE: "dm ongoing csm",
    CUSTOMER_CHAMPION: "dm champion",
    CUSTOMER_SPONSOR: "dm sponsor",
}


def _local_day(at: float) -> date:
    return datetime.fromtimestamp(at, UTC).astimezone(NEW_YORK).date()


def _line(call, rows: dict[str, Notification]) -> str:
    when = datetime.fromtimestamp(call.at, UTC).astimezone(NEW_YORK)
    keys = call.args.get("metadata", {}).get("event_payload", {}).get("dedupe_keys")
    if keys:
        said = ", ".join(
            sorted(f"{rows[k].rule} {rows[k].subject or '-'}{' (urgent)' if rows[k].urgent else ''}" for k in keys)
        )
    else:
        said = "« " + call.args.get("text", "").split("\n")[0][:90] + " »"
    where = WHERE.get(call.args["channel"], call.args["channel"]) + (" thread" if call.args.get("thread_ts") else "")
    return f"{when:%Y-%m-%d %a %H:%M} {where}: {said}"


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_a_playbook_is_played_from_the_handoff_to_the_end_of_adoption_through_its_controls(harness, playbook):
    h = harness
    with freeze_time(local(START, 9), tick=True) as frozen:
        play = Playthrough(h, playbook, frozen)
        play.hand_off()
        play.play(until=START + timedelta(days=220))
    h.settle()

    # It completes: every milestone done, handed over to the ongoing CSM, by the CSM's press.
    assert play.completed_on is not None, "the onboarding never completed"
    with session_scope(h.engine) as s:
        ob = s.get(Onboarding, play.onboarding_id)
        milestones = list(s.exec(select(Milestone).where(Milestone.onboarding_id == ob.id)))
        completed = list(
            s.exec(select(AuditEntry).where(AuditEntry.onboarding_id == ob.id, AuditEntry.action == "completed"))
        )
        rows = list(s.exec(select(Notification).where(Notification.onboarding_id == ob.id)))
        people = list(s.exec(select(Person).where(Person.onboarding_id == ob.id)))
    sent = {r.dedupe_key: r for r in rows if r.status == "sent"}
    posts = [c for c in h.fake.calls_to("chat.postMessage") if c.ok]
    # Posts to different destinations go out concurrently: the record orders each moment by destination.
    actual = sorted((_line(c, sent) for c in posts), key=lambda line: line.split(": ", 1)[0])
    expected = DATA / f"playthrough_{playbook}.txt"
    if os.environ.get("ONBOARD_UPDATE_SIMULATION"):
        expected.write_text("\n".join(actual) + "\n")
    assert ob.status == "handed_off" and ob.stage == "adoption" and ob.went_live_on is not None
    assert not [(m.key, m.stage, m.status) for m in milestones if m.status != "done"]
    assert [c.actor for c in completed] == [VENDOR_CSM]
    assert play.blocked_on and play.unblocked_on, "the SSO item was blocked and unblocked from its card"
    assert play.picked_up_by == VENDOR_MANAGER, "the escalation reached the CSM's manager, who picked it up"
    assert play.nudged_confirms, "the customer confirmed from a nudge addressed to them"
    assert play.rated, "the champion answered the rating cards"
    reminded = [r for r in rows if r.recipient == CUSTOMER_SPONSOR and r.subject == "go_live_signed"]
    assert reminded and all(r.payload["facts"]["signoff_state"] == "open" for r in reminded), (
        "the sponsor is reminded of the sign-off only while it is theirs to give"
    )

    # Every press worked, except the CSM's early tries to move on; each of those says what holds the
    # stage and what to do about it.
    for answer in play.answers:
        if answer.action.startswith(Action.RATE):
            assert answer.text.startswith("You rated"), answer.text
        elif answer.action == Action.ESCALATION_ACK:
            assert answer.text.startswith("It's yours"), answer.text
        else:
            assert answer.action == Action.STAGE_ADVANCE, f"{answer.action} refused: {answer.text}"
    refused_moves = [a for a in play.answers if a.action == Action.STAGE_ADVANCE]
    assert refused_moves, "the CSM tried to move on while something still held the stage"
    for answer in refused_moves:
        holds = [b for b in answer.blocks if b.get("type") == "section" and "\nneeds " in b["text"]["text"]]
        assert holds, f"a refused move names what holds the stage: {answer.blocks!r}"
        for hold in holds:
            fix = hold.get("accessory", {})
            says = hold["text"]["text"].lower()
            assert fix.get("url") or fix.get("action_id") == Action.MILESTONE_ASSIGN or "press" in says, hold

    # Nothing failed, nothing went twice, and at most one digest a day per destination.
    assert rows and not [r for r in rows if r.status == "failed"]
    scheduled = [c for c in posts if c.args.get("metadata")]
    carried = Counter(k for c in scheduled for k in c.args["metadata"]["event_payload"]["dedupe_keys"])
    assert max(carried.values()) == 1 and set(carried) == set(sent)
    digests = Counter(
        (c.args["channel"], _local_day(c.at))
        for c in scheduled
        if not sent[c.args["metadata"]["event_payload"]["dedupe_keys"][0]].urgent
    )
    assert max(digests.values()) == 1, [k for k, n in digests.items() if n > 1]
    for call in scheduled:
        local_at = datetime.fromtimestamp(call.at, UTC).astimezone(NEW_YORK)
        assert local_at.weekday() < 5 and 9 <= local_at.hour < 17, f"posted at {local_at:%a %H:%M}"

    # No scheduled post offers a control to someone who can't use it (the simulation's check).
    by_person = {p.slack_user_id for p in people if p.slack_user_id}
    for call in scheduled:
        carried_rows = [sent[k] for k in call.args["metadata"]["event_payload"]["dedupe_keys"]]
        for _act, _ref, row in _controls(call.args["blocks"], carried_rows):
            assert row is not None
            addressee = row.recipient if row.audience == "dm" else str(row.payload["facts"].get("addressed", ""))
            assert addressee.strip("<@>") in by_person
    assert not [
        c
        for c in posts
        if c.args["channel"] in (CUSTOMER_SPONSOR, CUSTOMER_CHAMPION) and _controls(c.args["blocks"], [])
    ]

    # After the completion only the post-go-live cadence goes on: to the ongoing CSM, and the executive
    # summary to the customer.
    after = [r for r in sent.values() if r.sent_at.astimezone(NEW_YORK).date() > play.completed_on]
    assert {r.rule for r in after} <= AFTER_GO_LIVE, after
    assert {r.recipient for r in after if r.audience == "dm"} <= {ONGOING}

    assert actual == expected.read_text().splitlines(), "what was posted changed: see the docstring"
